-- switchboard schema, SQLite dialect (DESIGN §7). The PostgreSQL twin lives in
-- migrations/postgres and must describe the same tables, columns and constraints.
--
-- Conventions
-- * Times are ISO-8601 UTC TEXT exactly as sqlx encodes chrono `DateTime<Utc>`
--   (RFC 3339, `+00:00`, 0/3/6/9 fraction digits). That form sorts lexicographically in
--   time order, which the job claim (`next_run_at <= $now`) relies on. Always bind times from
--   Rust; never use CURRENT_TIMESTAMP (it writes `YYYY-MM-DD HH:MM:SS`, which sorts wrong
--   against the RFC 3339 form).
-- * JSON columns are TEXT checked with json_valid().
-- * Phone numbers are E.164 (`+` then digits), normalised by the core before they get here.
-- * AUTOINCREMENT keeps ids from being reused after a delete, as PostgreSQL identities do:
--   ids are shown to operators and written into job payloads.
-- * Tenancy configuration cascades with its company; history (calls, appointments, jobs,
--   customers, webhook log) does not: deleting a company with history fails loudly.

CREATE TABLE companies (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    -- `de` or `en` (Locale::as_str).
    locale         TEXT    NOT NULL DEFAULT 'de' CHECK (locale IN ('de', 'en')),
    -- IANA zone, e.g. `Europe/Berlin`; validated when read (chrono-tz).
    time_zone      TEXT    NOT NULL,
    -- Credentials. Never logged; the store only hands them out as SecretString.
    retell_api_key TEXT    NOT NULL,
    calcom_api_key TEXT    NOT NULL,
    created_at     TEXT    NOT NULL
);

CREATE TABLE branches (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    -- Business window, local time of the company, `HH:MM`. Equal-width strings, so `<`
    -- compares them as times.
    opens      TEXT    NOT NULL DEFAULT '08:00'
        CHECK (length(opens) = 5 AND opens GLOB '[0-2][0-9]:[0-5][0-9]'),
    closes     TEXT    NOT NULL DEFAULT '20:00'
        CHECK (length(closes) = 5 AND closes GLOB '[0-2][0-9]:[0-5][0-9]'),
    created_at TEXT    NOT NULL,
    UNIQUE (company_id, name),
    CHECK (opens < closes)
);

CREATE TABLE phone_numbers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    number     TEXT    NOT NULL UNIQUE CHECK (number GLOB '+[1-9]*' AND number NOT GLOB '+*[^0-9]*'),
    branch_id  INTEGER NOT NULL REFERENCES branches (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL
);
CREATE INDEX phone_numbers_branch ON phone_numbers (branch_id);

CREATE TABLE services (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id    INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    -- JSON array of strings: other names callers use.
    aliases       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(aliases) AND json_type(aliases) = 'array'),
    duration_min  INTEGER NOT NULL CHECK (duration_min > 0),
    -- Cal.com event type (and team, when the event type belongs to one).
    event_type_id INTEGER NOT NULL,
    team_id       INTEGER,
    created_at    TEXT    NOT NULL,
    UNIQUE (company_id, name)
);

CREATE TABLE staff (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    -- NULL: works at every branch of the company.
    branch_id  INTEGER REFERENCES branches (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX staff_company ON staff (company_id);

CREATE TABLE customers (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL REFERENCES companies (id),
    phone      TEXT    NOT NULL,
    name       TEXT,
    email      TEXT,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    UNIQUE (company_id, phone)
);

CREATE TABLE appointments (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id        INTEGER NOT NULL REFERENCES companies (id),
    branch_id         INTEGER REFERENCES branches (id),
    -- Retell call id when booked from a call. Deliberately not a foreign key: bookings made
    -- through the gateway or imported may name calls we never recorded.
    call_id           TEXT,
    customer_id       INTEGER REFERENCES customers (id),
    booking_uid       TEXT    NOT NULL UNIQUE,
    calcom_booking_id INTEGER NOT NULL,
    event_type_id     INTEGER NOT NULL,
    service_id        INTEGER REFERENCES services (id) ON DELETE SET NULL,
    -- Frozen copy: the service may be renamed or deleted later.
    service_name      TEXT    NOT NULL,
    start_at          TEXT    NOT NULL,
    end_at            TEXT    NOT NULL,
    attendee_name     TEXT    NOT NULL,
    attendee_phone    TEXT,
    attendee_email    TEXT,
    status            TEXT    NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'rescheduled', 'cancelled')),
    -- One booking per key, whatever is retried or replayed (DESIGN §3 invariants).
    idempotency_key   TEXT    NOT NULL UNIQUE,
    -- `phone` (from a call) or `gateway`.
    source            TEXT    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL
);
CREATE INDEX appointments_company_start ON appointments (company_id, start_at);
CREATE INDEX appointments_call ON appointments (call_id);
CREATE INDEX appointments_customer ON appointments (customer_id);

CREATE TABLE calls (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id              TEXT    NOT NULL UNIQUE,
    company_id           INTEGER NOT NULL REFERENCES companies (id),
    branch_id            INTEGER REFERENCES branches (id),
    -- Retell's call_status plus our `analyzed`. Ranked registered < ongoing <
    -- ended/error/not_connected < analyzed; the store never moves a call down that ladder.
    status               TEXT    NOT NULL
        CHECK (status IN ('registered', 'ongoing', 'ended', 'error', 'not_connected', 'analyzed')),
    from_number          TEXT,
    to_number            TEXT,
    direction            TEXT,
    started_at           TEXT,
    ended_at             TEXT,
    duration_ms          INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
    disconnection_reason TEXT,
    -- CollectedAppointment as JSON: what the caller said, saved on every custom function;
    -- collected_at is when it was last saved (updated_at also moves with webhooks).
    collected            TEXT    CHECK (collected IS NULL OR json_valid(collected)),
    collected_at         TEXT,
    -- The last Retell call object received (reference/retell.md §1.3).
    payload              TEXT    CHECK (payload IS NULL OR json_valid(payload)),
    summary              TEXT,
    sentiment            TEXT,
    customer_id          INTEGER REFERENCES customers (id),
    appointment_id       INTEGER REFERENCES appointments (id) ON DELETE SET NULL,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);
CREATE INDEX calls_company_created ON calls (company_id, created_at);

-- Durable outbox (reference/rust-stack.md §5).
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    queue           TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    company_id      INTEGER NOT NULL REFERENCES companies (id),
    call_id         TEXT,
    idempotency_key TEXT    NOT NULL UNIQUE,
    payload         TEXT    NOT NULL CHECK (json_valid(payload)),
    -- `failed` is the dead letter.
    status          TEXT    NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts    INTEGER NOT NULL CHECK (max_attempts > 0),
    next_run_at     TEXT    NOT NULL,
    -- Lease of the worker that claimed the job; expired leases are claimed again.
    locked_until    TEXT,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    CHECK (status <> 'running' OR locked_until IS NOT NULL)
);
CREATE INDEX jobs_status_next_run ON jobs (status, next_run_at);
CREATE INDEX jobs_call ON jobs (call_id);

-- Dedup log of Retell webhooks: one row per (event, call_id), repeats only count.
CREATE TABLE webhook_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event           TEXT    NOT NULL,
    call_id         TEXT    NOT NULL,
    company_id      INTEGER NOT NULL REFERENCES companies (id),
    received_at     TEXT    NOT NULL,
    duplicate_count INTEGER NOT NULL DEFAULT 0 CHECK (duplicate_count >= 0),
    UNIQUE (event, call_id)
);
CREATE INDEX webhook_events_company ON webhook_events (company_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Lower-case hex SHA-256 of the bearer token; the token itself is never stored.
    token_sha256 TEXT    NOT NULL UNIQUE
        CHECK (length(token_sha256) = 64 AND token_sha256 NOT GLOB '*[^0-9a-f]*'),
    -- NULL: admin token (every company).
    company_id   INTEGER REFERENCES companies (id) ON DELETE CASCADE,
    label        TEXT    NOT NULL,
    created_at   TEXT    NOT NULL
);

-- Retell agent/webhook configuration per company (used by `retell.config.*`).
CREATE TABLE retell_configurations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL UNIQUE REFERENCES companies (id) ON DELETE CASCADE,
    config     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);

-- Custom function definitions per company (used by `retell.config.*CustomFunction*`).
CREATE TABLE retell_custom_functions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    config     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(config)),
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    UNIQUE (company_id, name)
);
