-- The call context is held by its actor (issue 16): every save of a call's collected data
-- is a compare-and-set on this version (`UPDATE … WHERE context_version = expected`, +1 per
-- save), so an instance whose copy is older than the stored one finds out and reloads, and
-- a read checks this one integer instead of the whole context. Existing rows get 1.
ALTER TABLE calls ADD COLUMN context_version INTEGER NOT NULL DEFAULT 1;
