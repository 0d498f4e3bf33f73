-- Audit records, shipped from each gateway's spool. The body is the record exactly as spooled
-- (text, not jsonb: jsonb would reorder members and reject \u0000, and the verifier re-hashes what
-- it reads); the other columns are extracted from it for queries, and `sentinel audit verify
-- --source store` checks that they still agree with the body.
CREATE TABLE IF NOT EXISTS audit_records (
  chain_id    text        NOT NULL,
  seq         bigint      NOT NULL,
  kind        text        NOT NULL,
  record_id   text        NOT NULL,
  at          timestamptz NOT NULL,
  tenant      text,
  user_id     text,
  role        text,
  session_id  text,
  connection  text,
  method      text,
  target      text,
  name        text,
  decision    text,
  rule_id     text,
  outcome     text,
  error_code  text,
  prev_hash   text        NOT NULL,
  hash        text        NOT NULL,
  body        text        NOT NULL,
  PRIMARY KEY (chain_id, seq)
);

-- Query paths: a tenant's records newest first, narrowed by user, tool or decision; keyset
-- pagination over (at, chain_id, seq).
CREATE INDEX IF NOT EXISTS audit_records_tenant_at ON audit_records (tenant, at DESC, chain_id DESC, seq DESC);
CREATE INDEX IF NOT EXISTS audit_records_tenant_user_at ON audit_records (tenant, user_id, at DESC);
CREATE INDEX IF NOT EXISTS audit_records_tenant_name_at ON audit_records (tenant, name, at DESC);
CREATE INDEX IF NOT EXISTS audit_records_record_id ON audit_records (record_id);
