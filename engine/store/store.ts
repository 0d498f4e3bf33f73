/**
 * The relational store behind audit (and, later, config and sessions for the admin API): one small
 * interface with two implementations, PGlite embedded in the data dir and Postgres over the
 * network, both speaking the same SQL and the same migrations (schema/migrations/*.sql).
 * Parameters are positional ($1, $2…) in both.
 */
export interface Queryable {
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Store extends Queryable {
  readonly kind: "pglite" | "postgres";
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Calls `fn` for every NOTIFY on `channel`; resolves to the function that stops listening. */
  listen(channel: string, fn: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
