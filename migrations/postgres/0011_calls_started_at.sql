-- webhook.listCalls (and the MCP resource calls/today) reads a company's calls of a time range
-- ordered by start: without this index it read every call of the company.
CREATE INDEX calls_company_started ON calls (company_id, started_at, call_id);
