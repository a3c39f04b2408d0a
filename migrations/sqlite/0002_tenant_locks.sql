-- Booking lock per company with a lease: serialises slot-changing work of one company across
-- instances (TenantSession); an expired lease may be taken over by another holder.
CREATE TABLE tenant_locks (
    company_id   INTEGER PRIMARY KEY REFERENCES companies (id) ON DELETE CASCADE,
    holder       TEXT    NOT NULL,
    locked_until TEXT    NOT NULL
);
