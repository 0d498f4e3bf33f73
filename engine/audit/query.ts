/**
 * Reads audit records back from the store: by tenant, time range, user, tool (name) and
 * decision, newest first, with keyset pagination. The cursor is opaque to callers (base64url of
 * the last row's time, chain and seq), so a page is stable while new records keep arriving.
 */
import type { Store } from "../store/store.js";
import type { AuditDecision, AuditRecord } from "./record.js";

export interface AuditQuery {
  readonly tenant: string;
  /** ISO times; `from` inclusive, `to` exclusive. */
  readonly from?: string;
  readonly to?: string;
  readonly user?: string;
  readonly name?: string;
  readonly decision?: AuditDecision;
  readonly kind?: AuditRecord["kind"];
  readonly limit?: number;
  readonly cursor?: string;
}

export interface AuditPage {
  readonly records: AuditRecord[];
  /** Pass back to get the next page; absent on the last page. */
  readonly nextCursor?: string;
}

interface Cursor {
  readonly at: string;
  readonly chain: string;
  readonly seq: number;
}

const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify([c.at, c.chain, c.seq])).toString("base64url");

function decodeCursor(text: string): Cursor {
  const parsed: unknown = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  if (!Array.isArray(parsed) || typeof parsed[0] !== "string" || typeof parsed[1] !== "string" || !Number.isSafeInteger(parsed[2])) {
    throw new RangeError("invalid audit cursor");
  }
  return { at: parsed[0], chain: parsed[1], seq: parsed[2] as number };
}

export async function queryAudit(store: Store, q: AuditQuery): Promise<AuditPage> {
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
  const where = ["tenant = $1"];
  const params: unknown[] = [q.tenant];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace("?", `$${params.length}`));
  };
  if (q.from !== undefined) add("at >= ?", q.from);
  if (q.to !== undefined) add("at < ?", q.to);
  if (q.user !== undefined) add("user_id = ?", q.user);
  if (q.name !== undefined) add("name = ?", q.name);
  if (q.decision !== undefined) add("decision = ?", q.decision);
  if (q.kind !== undefined) add("kind = ?", q.kind);
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    params.push(c.at, c.chain, c.seq);
    const n = params.length;
    where.push(`(at, chain_id, seq) < ($${n - 2}::timestamptz, $${n - 1}, $${n})`);
  }
  const rows = await store.query<{ body: string; at: Date | string; chain_id: string; seq: string | number }>(
    `SELECT body, at, chain_id, seq FROM audit_records WHERE ${where.join(" AND ")}
     ORDER BY at DESC, chain_id DESC, seq DESC LIMIT ${limit + 1}`,
    params,
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const records = page.map((r) => JSON.parse(r.body) as AuditRecord);
  if (rows.length <= limit || last === undefined) return { records };
  const at = last.at instanceof Date ? last.at.toISOString() : new Date(last.at).toISOString();
  return { records, nextCursor: encodeCursor({ at, chain: last.chain_id, seq: Number(last.seq) }) };
}
