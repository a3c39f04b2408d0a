-- Token scopes (issue 10): `gateway` tokens are the company and admin tokens of the JSON-RPC
-- gateway; `metrics` tokens may only read GET /api/metrics and the detailed health (what
-- Prometheus is given). A metrics token belongs to no company.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'gateway'
    CHECK (scope IN ('gateway', 'metrics'));
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_metrics_no_company
    CHECK (scope <> 'metrics' OR company_id IS NULL);
