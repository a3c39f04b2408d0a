-- Every row and key that a Retell call id names carries its company (issue 10, finding 3).
-- Twin of migrations/postgres/0004_tenant_keys.sql.
--
-- * `calls.call_id` stays globally UNIQUE: Retell call ids are global, and the row records
--   which company owns the call (the first to record it). The store refuses every write for
--   that call from another company; that needs no schema change.
-- * `webhook_events` deduplicates per (company_id, event, call_id), so another company's
--   delivery can never make the owner's event a duplicate. Event names are stored only as
--   Retell documents them (reference/retell.md §1.1), anything else as `other`, at most 64
--   characters: rows of other names are folded into one `other` row per call, their count
--   kept as duplicates.
-- * Idempotency keys of `jobs` and `appointments` are unique per company, and the key of a
--   call's booking becomes `retell:{company_id}:{call_id}:book`. Existing `retell:{call_id}:book`
--   keys are rewritten so that a retried `call_ended` after the upgrade finds the job it
--   already queued. Job payloads keep the key they were queued with: it is the Cal.com
--   metadata value of any booking an earlier attempt made, which a retry looks up.
--
-- SQLite cannot change a UNIQUE constraint in place, so each table is rebuilt: create, copy
-- with its ids, drop, rename, indexes again, and its AUTOINCREMENT counter carried over so
-- ids are never reused. Migrations run in one transaction with foreign keys on, where
-- `PRAGMA foreign_keys` has no effect: dropping `appointments` would set every
-- `calls.appointment_id` to NULL (ON DELETE SET NULL), so those links are saved first and
-- restored after.

CREATE TABLE webhook_events_0004 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event           TEXT    NOT NULL CHECK (length(event) BETWEEN 1 AND 64),
    call_id         TEXT    NOT NULL,
    company_id      INTEGER NOT NULL REFERENCES companies (id),
    received_at     TEXT    NOT NULL,
    duplicate_count INTEGER NOT NULL DEFAULT 0 CHECK (duplicate_count >= 0),
    UNIQUE (company_id, event, call_id)
);
INSERT INTO webhook_events_0004 (id, event, call_id, company_id, received_at, duplicate_count)
SELECT MIN(id), event, call_id, company_id, MIN(received_at),
       SUM(duplicate_count) + COUNT(*) - 1
FROM (
    SELECT id, call_id, company_id, received_at, duplicate_count,
           CASE WHEN event IN ('call_started', 'call_ended', 'call_analyzed',
                    'transcript_updated', 'transfer_started', 'transfer_bridged',
                    'transfer_cancelled', 'transfer_ended', 'call_inbound', 'chat_started',
                    'chat_ended', 'chat_analyzed')
                THEN event ELSE 'other' END AS event
    FROM webhook_events
)
GROUP BY company_id, event, call_id;
DELETE FROM sqlite_sequence WHERE name = 'webhook_events_0004';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'webhook_events_0004', seq FROM sqlite_sequence WHERE name = 'webhook_events';
DROP TABLE webhook_events;
ALTER TABLE webhook_events_0004 RENAME TO webhook_events;

CREATE TABLE jobs_0004 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    queue           TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    company_id      INTEGER NOT NULL REFERENCES companies (id),
    call_id         TEXT,
    idempotency_key TEXT    NOT NULL,
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
    CHECK (status <> 'running' OR locked_until IS NOT NULL),
    UNIQUE (company_id, idempotency_key)
);
INSERT INTO jobs_0004 (id, queue, kind, company_id, call_id, idempotency_key, payload, status,
    attempts, max_attempts, next_run_at, locked_until, last_error, created_at, updated_at)
SELECT id, queue, kind, company_id, call_id,
       CASE WHEN idempotency_key = 'retell:' || call_id || ':book'
            THEN 'retell:' || company_id || ':' || call_id || ':book'
            ELSE idempotency_key END,
       payload, status, attempts, max_attempts, next_run_at, locked_until, last_error,
       created_at, updated_at
FROM jobs;
DELETE FROM sqlite_sequence WHERE name = 'jobs_0004';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'jobs_0004', seq FROM sqlite_sequence WHERE name = 'jobs';
DROP TABLE jobs;
ALTER TABLE jobs_0004 RENAME TO jobs;
CREATE INDEX jobs_status_next_run ON jobs (status, next_run_at);
CREATE INDEX jobs_call ON jobs (call_id);
CREATE INDEX jobs_status_updated ON jobs (status, updated_at);

CREATE TEMP TABLE call_appointments_0004 AS
SELECT id, appointment_id FROM calls WHERE appointment_id IS NOT NULL;
CREATE TABLE appointments_0004 (
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
    -- One booking per key and company, whatever is retried or replayed (DESIGN §3 invariants).
    idempotency_key   TEXT    NOT NULL,
    -- `phone` (from a call) or `gateway`.
    source            TEXT    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    UNIQUE (company_id, idempotency_key)
);
INSERT INTO appointments_0004 (id, company_id, branch_id, call_id, customer_id, booking_uid,
    calcom_booking_id, event_type_id, service_id, service_name, start_at, end_at,
    attendee_name, attendee_phone, attendee_email, status, idempotency_key, source,
    created_at, updated_at)
SELECT id, company_id, branch_id, call_id, customer_id, booking_uid, calcom_booking_id,
       event_type_id, service_id, service_name, start_at, end_at, attendee_name,
       attendee_phone, attendee_email, status,
       CASE WHEN idempotency_key = 'retell:' || call_id || ':book'
            THEN 'retell:' || company_id || ':' || call_id || ':book'
            ELSE idempotency_key END,
       source, created_at, updated_at
FROM appointments;
DELETE FROM sqlite_sequence WHERE name = 'appointments_0004';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'appointments_0004', seq FROM sqlite_sequence WHERE name = 'appointments';
DROP TABLE appointments;
ALTER TABLE appointments_0004 RENAME TO appointments;
CREATE INDEX appointments_company_start ON appointments (company_id, start_at);
CREATE INDEX appointments_call ON appointments (call_id);
CREATE INDEX appointments_customer ON appointments (customer_id);
UPDATE calls SET appointment_id = (
    SELECT saved.appointment_id FROM temp.call_appointments_0004 saved WHERE saved.id = calls.id
)
WHERE id IN (SELECT id FROM temp.call_appointments_0004);
DROP TABLE temp.call_appointments_0004;
