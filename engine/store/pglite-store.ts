/**
 * The embedded store: PGlite (Postgres compiled to WebAssembly) in a directory of the data dir.
 * One process owns the directory at a time. PGlite runs statements one after another, and
 * single-row inserts cost milliseconds each, so writers batch (the audit sink inserts hundreds of
 * rows per statement).
 */
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { Queryable, Store } from "./store.js";

const wrap = (db: Pick<PGlite, "query" | "exec">): Queryable => ({
  async query<T extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await db.query<T>(sql, params as unknown[])).rows;
  },
  async exec(sql: string): Promise<void> {
    await db.exec(sql);
  },
});

export async function openPgliteStore(dir: string): Promise<Store> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const db = await PGlite.create(dir);
  const q = wrap(db);
  return {
    kind: "pglite",
    query: q.query,
    exec: q.exec,
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    async listen(channel, fn) {
      const unsubscribe = await db.listen(channel, fn);
      return async () => unsubscribe();
    },
    close: () => db.close(),
  };
}
