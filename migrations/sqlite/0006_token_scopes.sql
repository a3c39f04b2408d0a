-- Token scopes (issue 10): `gateway` tokens are the company and admin tokens of the JSON-RPC
-- gateway; `metrics` tokens may only read GET /api/metrics and the detailed health (what
-- Prometheus is given). A metrics token belongs to no company. SQLite cannot add a table
-- constraint, so both checks of the PostgreSQL migration sit on the new column.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'gateway'
    CHECK (scope IN ('gateway', 'metrics') AND (scope <> 'metrics' OR company_id IS NULL));
