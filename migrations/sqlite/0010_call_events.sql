-- What Retell's webhooks add to a call beyond its columns (issue 13): the transfer fields
-- of `transfer_started` / `transfer_bridged` / `transfer_cancelled` / `transfer_ended` and
-- the whole `call_analysis` of `call_analyzed` (with `custom_analysis_data`), shown by
-- `webhook.getCall`. Twin of migrations/postgres/0010_call_events.sql.
--
-- * One row per (company, event, call): deduplicated like `webhook_events`, so a call holds
--   at most one row per event name (five names are stored).
-- * details: a JSON object of at most 32 KiB (larger ones are replaced by a note of their
--   size before they are written).
-- * call_id is not a foreign key, as in `webhook_events`. The row is written right after the
--   event's own transaction, and again by a retry of the event until it is there.

CREATE TABLE call_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id  INTEGER NOT NULL REFERENCES companies (id),
    call_id     TEXT    NOT NULL,
    event       TEXT    NOT NULL CHECK (length(event) <= 64),
    received_at TEXT    NOT NULL,
    details     TEXT    NOT NULL CHECK (json_valid(details)),
    UNIQUE (company_id, event, call_id)
);
CREATE INDEX call_events_call ON call_events (call_id, company_id);
