-- SMS confirmations (issue 12): a tenant's Twilio Messages API account, from the `[sms]`
-- section of its tenant file. Twin of migrations/sqlite/0009_sms.sql.
--
-- * sms_account_sid: `AC` + 32 hex digits; NULL: the tenant sends no text messages (and
--   the agent never promises one).
-- * sms_auth_token: sealed like the Cal.com key (`enc:v1:<key id>:…`, bound to the company
--   and this column); NULL or '': not set.
-- * sms_from: the sender, E.164.
-- * sms_base_url: the tenant's own API base URL; NULL: the service's `sms.base_url`.

ALTER TABLE companies ADD COLUMN sms_account_sid TEXT;
ALTER TABLE companies ADD COLUMN sms_auth_token TEXT;
ALTER TABLE companies ADD COLUMN sms_from TEXT;
ALTER TABLE companies ADD COLUMN sms_base_url TEXT;
