-- Liveness of the outbox workers of every instance: each worker upserts its row on every poll
-- (`queue.getWorkers` lists the rows with a recent heartbeat). Twin of
-- migrations/sqlite/0003_outbox_workers.sql.
CREATE TABLE outbox_workers (
    -- Listed in byte order, as on SQLite.
    worker_id         TEXT COLLATE "C" PRIMARY KEY,
    host              TEXT        NOT NULL,
    pid               BIGINT      NOT NULL CHECK (pid >= 0),
    started_at        TIMESTAMPTZ NOT NULL,
    last_heartbeat_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_workers_last_heartbeat ON outbox_workers (last_heartbeat_at);
-- `queue.getMetrics` reads the jobs that finished in a recent window.
CREATE INDEX jobs_status_updated ON jobs (status, updated_at);
