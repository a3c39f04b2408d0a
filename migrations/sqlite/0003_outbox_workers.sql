-- Liveness of the outbox workers of every instance: each worker upserts its row on every poll
-- (`queue.getWorkers` lists the rows with a recent heartbeat). Times are RFC 3339 UTC text.
CREATE TABLE outbox_workers (
    worker_id         TEXT    PRIMARY KEY,
    host              TEXT    NOT NULL,
    pid               INTEGER NOT NULL CHECK (pid >= 0),
    started_at        TEXT    NOT NULL,
    last_heartbeat_at TEXT    NOT NULL
);
CREATE INDEX outbox_workers_last_heartbeat ON outbox_workers (last_heartbeat_at);
-- `queue.getMetrics` reads the jobs that finished in a recent window.
CREATE INDEX jobs_status_updated ON jobs (status, updated_at);
