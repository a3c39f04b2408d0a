-- Booking lock per company with a lease: serialises slot-changing work of one company across
-- instances (TenantSession); an expired lease may be taken over by another holder. Twin of
-- migrations/sqlite/0002_tenant_locks.sql.
CREATE TABLE tenant_locks (
    company_id   BIGINT      PRIMARY KEY REFERENCES companies (id) ON DELETE CASCADE,
    holder       TEXT        NOT NULL,
    locked_until TIMESTAMPTZ NOT NULL
);
