-- Every row and key that a Retell call id names carries its company (issue 10, finding 3).
-- Twin of migrations/sqlite/0004_tenant_keys.sql, which explains the changes; PostgreSQL
-- changes the constraints in place. The constraint names dropped are PostgreSQL's defaults
-- for the UNIQUE clauses of 0001.

-- Rows of event names Retell does not document are folded into one `other` row per
-- (company, call), the lowest id kept and the others counted as its duplicates. The old key
-- (event, call_id) goes first: two companies' folded rows of one call id share it.
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_event_call_id_key;
WITH mapped AS (
    SELECT id, company_id, call_id, duplicate_count,
           CASE WHEN event IN ('call_started', 'call_ended', 'call_analyzed',
                    'transcript_updated', 'transfer_started', 'transfer_bridged',
                    'transfer_cancelled', 'transfer_ended', 'call_inbound', 'chat_started',
                    'chat_ended', 'chat_analyzed')
                THEN event ELSE 'other' END AS event
    FROM webhook_events
), folded AS (
    SELECT MIN(id) AS keep, company_id, event, call_id,
           SUM(duplicate_count) + COUNT(*) - 1 AS duplicates
    FROM mapped GROUP BY company_id, event, call_id
), dropped AS (
    DELETE FROM webhook_events w USING mapped m, folded f
    WHERE w.id = m.id AND m.company_id = f.company_id AND m.event = f.event
        AND m.call_id = f.call_id AND w.id <> f.keep
)
UPDATE webhook_events w SET event = f.event, duplicate_count = f.duplicates
FROM folded f WHERE w.id = f.keep;
ALTER TABLE webhook_events ADD UNIQUE (company_id, event, call_id);
ALTER TABLE webhook_events ADD CHECK (length(event) BETWEEN 1 AND 64);
-- The new unique key leads with company_id and serves the per-company reads.
DROP INDEX webhook_events_company;

UPDATE jobs SET idempotency_key = 'retell:' || company_id || ':' || call_id || ':book'
WHERE idempotency_key = 'retell:' || call_id || ':book';
ALTER TABLE jobs DROP CONSTRAINT jobs_idempotency_key_key;
ALTER TABLE jobs ADD UNIQUE (company_id, idempotency_key);

UPDATE appointments SET idempotency_key = 'retell:' || company_id || ':' || call_id || ':book'
WHERE idempotency_key = 'retell:' || call_id || ':book';
ALTER TABLE appointments DROP CONSTRAINT appointments_idempotency_key_key;
ALTER TABLE appointments ADD UNIQUE (company_id, idempotency_key);
