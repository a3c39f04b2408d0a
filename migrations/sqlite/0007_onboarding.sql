-- Onboarding (issue 11): tenants declared in files and administered over JSON-RPC, tokens
-- with scopes and expiry, and the audit log. Twin of migrations/postgres/0007_onboarding.sql.
--
-- * companies: a stable `slug` (existing rows get `company-<id>`), the Retell agent, the
--   Cal.com base URL / team / webhook secret (sealed like the keys; NULL: not set), the
--   booking policy, `disabled_at` (a disabled tenant keeps all its data) and `updated_at`.
--   An empty credential ('') means "not set".
-- * branches: a `slug` unique per company (existing rows get `branch-<id>`) and the weekly
--   `opening_hours` as JSON (`{"mon": "08:00-12:00,14:00-18:00", …, "sun": "closed"}`;
--   NULL: not stated). `opens`/`closes` stay the span of the week.
-- * services: the `event_type_slug` written by the operator (the id is resolved from it) and
--   `service_branches`, the branches that offer a service (none listed: all of them).
-- * api_tokens: scope `read` / `write` / `admin` / `metrics` (`gateway` tokens become `write`
--   for a company, `admin` for every company), `expires_at` and `revoked_at`. SQLite cannot
--   change a CHECK, so the table is rebuilt with its ids and AUTOINCREMENT sequence.
-- * audit_log: who changed what of which tenant, when; the changes as a JSON array of lines
--   (never a secret).

ALTER TABLE companies ADD COLUMN slug TEXT NOT NULL DEFAULT '';
UPDATE companies SET slug = 'company-' || id;
CREATE UNIQUE INDEX companies_slug ON companies (slug);
ALTER TABLE companies ADD COLUMN retell_agent_id TEXT;
ALTER TABLE companies ADD COLUMN calcom_base_url TEXT;
ALTER TABLE companies ADD COLUMN calcom_team_id INTEGER CHECK (calcom_team_id IS NULL OR calcom_team_id > 0);
ALTER TABLE companies ADD COLUMN calcom_webhook_secret TEXT;
ALTER TABLE companies ADD COLUMN change_notice_h INTEGER NOT NULL DEFAULT 24
    CHECK (change_notice_h BETWEEN 0 AND 8760);
ALTER TABLE companies ADD COLUMN booking_horizon_days INTEGER NOT NULL DEFAULT 90
    CHECK (booking_horizon_days BETWEEN 1 AND 1825);
ALTER TABLE companies ADD COLUMN disabled_at TEXT;
ALTER TABLE companies ADD COLUMN updated_at TEXT;
UPDATE companies SET updated_at = created_at;

ALTER TABLE branches ADD COLUMN slug TEXT NOT NULL DEFAULT '';
UPDATE branches SET slug = 'branch-' || id;
CREATE UNIQUE INDEX branches_company_slug ON branches (company_id, slug);
ALTER TABLE branches ADD COLUMN opening_hours TEXT
    CHECK (opening_hours IS NULL OR (json_valid(opening_hours) AND json_type(opening_hours) = 'object'));

ALTER TABLE services ADD COLUMN event_type_slug TEXT;
CREATE TABLE service_branches (
    service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    branch_id  INTEGER NOT NULL REFERENCES branches (id) ON DELETE CASCADE,
    -- Place in the service's list as written, so the list reads back in that order.
    position   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service_id, branch_id)
);
CREATE INDEX service_branches_branch ON service_branches (branch_id);

CREATE TABLE api_tokens_0007 (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Lower-case hex SHA-256 of the bearer token; the token itself is never stored.
    token_sha256 TEXT    NOT NULL UNIQUE
        CHECK (length(token_sha256) = 64 AND token_sha256 NOT GLOB '*[^0-9a-f]*'),
    -- NULL: every company (an `admin` token of no company is the operators' admin token).
    company_id   INTEGER REFERENCES companies (id) ON DELETE CASCADE,
    -- What the token is for; its name in `token list`.
    label        TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    scope        TEXT    NOT NULL
        CHECK (scope IN ('read', 'write', 'admin', 'metrics')
               AND (scope <> 'metrics' OR company_id IS NULL)),
    -- NULL: never expires / not revoked.
    expires_at   TEXT,
    revoked_at   TEXT
);
INSERT INTO api_tokens_0007 (id, token_sha256, company_id, label, created_at, scope)
SELECT id, token_sha256, company_id, label, created_at,
       CASE WHEN scope = 'metrics' THEN 'metrics'
            WHEN company_id IS NULL THEN 'admin'
            ELSE 'write' END
FROM api_tokens;
DELETE FROM sqlite_sequence WHERE name = 'api_tokens_0007';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'api_tokens_0007', seq FROM sqlite_sequence WHERE name = 'api_tokens';
DROP TABLE api_tokens;
ALTER TABLE api_tokens_0007 RENAME TO api_tokens;
CREATE INDEX api_tokens_company ON api_tokens (company_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The tenant changed (NULL: no single tenant). Kept when the company row goes, with its
    -- slug, so the log outlives what it describes.
    company_id  INTEGER REFERENCES companies (id) ON DELETE SET NULL,
    company_slug TEXT,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    changes     TEXT    NOT NULL CHECK (json_valid(changes) AND json_type(changes) = 'array'),
    created_at  TEXT    NOT NULL
);
CREATE INDEX audit_log_company ON audit_log (company_id, id);
