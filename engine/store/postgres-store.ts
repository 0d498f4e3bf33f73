/**
 * The Postgres store, over the `postgres` package. Statements go through `unsafe(sql, params)`
 * because the SQL text is shared with PGlite; every value still travels as a bound parameter,
 * never spliced into the text.
 */
import postgres from "postgres";
import type { Queryable, Store } from "./store.js";

export interface PostgresOptions {
  readonly max?: number;
  readonly connectTimeoutSeconds?: number;
}

const wrap = (sql: postgres.Sql | postgres.TransactionSql): Queryable => ({
  async query<T extends Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[];
  },
  async exec(text: string): Promise<void> {
    // No parameters: the simple query protocol, which runs a multi-statement script.
    await sql.unsafe(text).simple();
  },
});

export function openPostgresStore(url: string, options: PostgresOptions = {}): Store {
  const sql = postgres(url, {
    max: options.max ?? 4,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    idle_timeout: 30,
    onnotice: () => undefined,
  });
  const q = wrap(sql);
  return {
    kind: "postgres",
    query: q.query,
    exec: q.exec,
    transaction: async <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => (await sql.begin((tx) => fn(wrap(tx)))) as T,
    async listen(channel, fn) {
      const sub = await sql.listen(channel, fn);
      return async () => sub.unlisten();
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
