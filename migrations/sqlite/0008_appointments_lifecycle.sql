-- Appointments after booking (issue 12): moved and cancelled by phone, by staff tools, or in
-- Cal.com and learned from its webhooks. Twin of migrations/postgres/0008_appointments_lifecycle.sql.
--
-- * appointments: `rescheduled_to_uid`, the booking that replaced a `rescheduled` one, and
--   `cancellation_reason` (at most 500 characters) of a `cancelled` one. `source` gains the
--   value `calcom` (made in Cal.com, learned from its webhook); the column has no CHECK to
--   change. Callers are found by their number among a company's upcoming appointments, so
--   that lookup gets its index.
-- * calcom_webhook_events: dedupe log of Cal.com webhooks, one row per (company, SHA-256 hex
--   of the raw body): Cal.com retries by sending the same body again (reference/calcom.md §6).
--   `trigger` is one of the triggers we act on; others are answered and not recorded.
-- * Jobs enqueued outside webhooks (reschedule, cancel, SMS) need nothing new: idempotency keys
--   are unique per company since 0004.

ALTER TABLE appointments ADD COLUMN rescheduled_to_uid TEXT;
ALTER TABLE appointments ADD COLUMN cancellation_reason TEXT
    CHECK (cancellation_reason IS NULL OR length(cancellation_reason) <= 500);
CREATE INDEX appointments_company_phone_start
    ON appointments (company_id, attendee_phone, start_at);

CREATE TABLE calcom_webhook_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id  INTEGER NOT NULL REFERENCES companies (id),
    -- Lower-case hex SHA-256 of the raw body.
    dedupe_key  TEXT    NOT NULL
        CHECK (length(dedupe_key) = 64 AND dedupe_key NOT GLOB '*[^0-9a-f]*'),
    trigger     TEXT    NOT NULL
        CHECK (trigger IN ('BOOKING_CREATED', 'BOOKING_RESCHEDULED', 'BOOKING_CANCELLED')),
    booking_uid TEXT    NOT NULL,
    received_at TEXT    NOT NULL,
    UNIQUE (company_id, dedupe_key)
);
