/**
 * Ships records into the store's `audit_records` table: multi-row inserts of up to 500 rows in
 * one transaction per batch, `ON CONFLICT DO NOTHING` on (chain_id, seq) so a batch resent after
 * a crash lands once. On Postgres the same transaction NOTIFYs the decision channel for every
 * newly inserted call record, which is how other processes (the admin service) follow decisions.
 */
import type { AuditRecord } from "../record.js";
import type { AuditSink } from "../sink.js";
import type { SpooledRecord } from "../spool-reader.js";
import type { Queryable, Store } from "../../store/store.js";

export const DECISION_CHANNEL = "sentinel_decisions";

const COLUMNS = [
  "chain_id", "seq", "kind", "record_id", "at", "tenant", "user_id", "role", "session_id", "connection", "method",
  "target", "name", "decision", "rule_id", "outcome", "error_code", "prev_hash", "hash", "body",
] as const;
const ROWS_PER_STATEMENT = 500;

/** The indexed columns of a record, in COLUMNS order (body excluded). */
export function recordColumns(r: AuditRecord): unknown[] {
  return [
    r.chain, r.seq, r.kind, r.id, r.time, r.tenant ?? null, r.user ?? null, r.role ?? null, r.session ?? null,
    r.connection ?? null, r.method ?? null, r.target ?? null, r.name ?? null, r.decision ?? null, r.ruleId ?? null,
    r.outcome?.status ?? null, r.outcome?.code ?? null, r.prev, r.hash,
  ];
}

/** What a NOTIFY carries: enough to render a decision, well under Postgres' 8000-byte payload limit. */
export function decisionSummary(r: AuditRecord): string {
  return JSON.stringify({
    chain: r.chain, seq: r.seq, id: r.id, time: r.time, tenant: r.tenant, user: r.user, connection: r.connection,
    name: r.name?.slice(0, 512), decision: r.decision, ruleId: r.ruleId, outcome: r.outcome,
  });
}

async function insert(tx: Queryable, batch: readonly SpooledRecord[]): Promise<number[]> {
  const params: unknown[] = [];
  const rows: string[] = [];
  for (const { record, line } of batch) {
    const base = params.length;
    params.push(...recordColumns(record), line);
    rows.push(`(${COLUMNS.map((_, i) => `$${base + i + 1}`).join(",")})`);
  }
  const inserted = await tx.query<{ seq: string | number }>(
    `INSERT INTO audit_records (${COLUMNS.join(",")}) VALUES ${rows.join(",")} ON CONFLICT (chain_id, seq) DO NOTHING RETURNING seq`,
    params,
  );
  return inserted.map((r) => Number(r.seq));
}

export function storeSink(store: Store, options: { notify: boolean } = { notify: store.kind === "postgres" }): AuditSink {
  return {
    name: "store",
    async write(batch) {
      await store.transaction(async (tx) => {
        for (let i = 0; i < batch.length; i += ROWS_PER_STATEMENT) {
          const chunk = batch.slice(i, i + ROWS_PER_STATEMENT);
          const fresh = new Set(await insert(tx, chunk));
          if (!options.notify) continue;
          const payloads = chunk.filter((s) => s.record.kind === "call" && fresh.has(s.record.seq)).map((s) => decisionSummary(s.record));
          if (payloads.length > 0) {
            await tx.query(`SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, [DECISION_CHANNEL, payloads]);
          }
        }
      });
      return batch.length;
    },
    close: () => store.close(),
  };
}
