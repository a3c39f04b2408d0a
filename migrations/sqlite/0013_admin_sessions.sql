-- Sessions of the operators' dashboard at /admin (issue 15). Twin of
-- migrations/postgres/0013_admin_sessions.sql.
--
-- * session_sha256: lower-case hex SHA-256 of the 256-bit random session id the `sb_admin`
--   cookie carries; the id itself is never stored, so a database leak opens no session.
-- * token_id: the gateway token signed in with. Deleting the token ends its sessions; a revoked
--   or expired one is refused on every request (the session lookup joins api_tokens).
-- * company_id: the token's company (NULL for the operators' admin token), so the row carries
--   its tenant like every other.
-- * csrf: the session's synchronizer token (hidden `csrf` field of every form), 64 hex digits.
-- * expires_at: last_seen_at + the idle lifetime (`admin.session_ttl_s`); expired rows are
--   refused at once and purged on the next sign-in.
CREATE TABLE admin_sessions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    session_sha256 TEXT    NOT NULL UNIQUE
        CHECK (length(session_sha256) = 64 AND session_sha256 NOT GLOB '*[^0-9a-f]*'),
    token_id       INTEGER NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    company_id     INTEGER REFERENCES companies (id) ON DELETE CASCADE,
    csrf           TEXT    NOT NULL CHECK (length(csrf) = 64),
    created_at     TEXT    NOT NULL,
    last_seen_at   TEXT    NOT NULL,
    expires_at     TEXT    NOT NULL
);
-- The per-token cap drops a token's oldest sessions first.
CREATE INDEX admin_sessions_token ON admin_sessions (token_id, created_at);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);
