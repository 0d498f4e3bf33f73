-- The declarative config as versioned documents: `sentinel apply`, the admin API and `sentinel
-- export` all read and write these rows, and every gateway follows the head. The document is
-- JSON text, not jsonb: jsonb would reorder members (an export would no longer read like the file
-- that was applied) and reject \u0000. `digest` is the sha256 of its canonical JSON, the value
-- admin-change audit records carry as before/after, so a record resolves to a stored version.
CREATE TABLE IF NOT EXISTS config_versions (
  version     bigint      PRIMARY KEY CHECK (version > 0),
  document    text        NOT NULL,
  digest      text        NOT NULL,
  author      text        NOT NULL,
  comment     text,
  -- What changed against the previous version, as a JSON array (`+rule acme/x`, `~connection acme/y`).
  changes     text        NOT NULL DEFAULT '[]',
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- The one current version. The row always exists (NULL before the first apply), so writers can
-- lock it with SELECT … FOR UPDATE: that lock serialises concurrent commits, and a writer that
-- read an older head gets a conflict instead of silently overwriting a newer version.
CREATE TABLE IF NOT EXISTS config_head (
  id       boolean PRIMARY KEY DEFAULT true CHECK (id),
  version  bigint  REFERENCES config_versions (version)
);
INSERT INTO config_head (id, version) VALUES (true, NULL) ON CONFLICT (id) DO NOTHING;

-- Admin API bearer tokens, stored only as sha256 hashes like API keys. A NULL tenant is a token
-- for every tenant; revoked tokens are kept (revoked_at set) so the audit trail's ids stay resolvable.
CREATE TABLE IF NOT EXISTS admin_tokens (
  id           text        PRIMARY KEY,
  hash         text        NOT NULL UNIQUE,
  role         text        NOT NULL CHECK (role IN ('owner', 'admin', 'auditor')),
  tenant       text,
  description  text,
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz
);
