/**
 * Applies schema/migrations/NNN_name.sql in order, each in its own transaction, recording it in
 * `schema_migrations`. Applied files are identified by name and checked by SHA-256, so an edited
 * migration is an error instead of a silently diverging schema. On Postgres an advisory lock
 * serialises gateways that start at the same time against one database.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SENTINEL_HOME } from "../config/load-config.js";
import type { Store } from "./store.js";

export const MIGRATIONS_DIR = resolve(SENTINEL_HOME, "schema/migrations");
const LOCK_KEY = 7_413_220_011;

export interface Migration {
  readonly name: string;
  readonly sql: string;
  readonly sha256: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3,}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name), "utf8");
      return { name, sql, sha256: createHash("sha256").update(sql).digest("hex") };
    });
}

/** Returns the names of the migrations it applied (none when the schema is current). */
export async function migrate(store: Store, migrations = readMigrations()): Promise<string[]> {
  const lock = async (tx: Pick<Store, "query">) => {
    if (store.kind === "postgres") await tx.query("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY]);
  };
  // Under the lock too: two sessions running CREATE TABLE IF NOT EXISTS at once on an empty
  // database can both pass the check, and the second fails on Postgres' catalog index.
  await store.transaction(async (tx) => {
    await lock(tx);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  const applied: string[] = [];
  for (const m of migrations) {
    const done = await store.transaction(async (tx) => {
      await lock(tx);
      const rows = await tx.query<{ sha256: string }>("SELECT sha256 FROM schema_migrations WHERE name = $1", [m.name]);
      if (rows[0] !== undefined) {
        if (rows[0].sha256 !== m.sha256) throw new Error(`migration ${m.name} was changed after it was applied (sha256 differs)`);
        return false;
      }
      await tx.exec(m.sql);
      await tx.query("INSERT INTO schema_migrations (name, sha256) VALUES ($1, $2)", [m.name, m.sha256]);
      return true;
    });
    if (done) applied.push(m.name);
  }
  return applied;
}
