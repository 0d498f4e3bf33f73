/**
 * Where `sentinel audit verify` reads records from: the spool's segment files, the store's
 * `audit_records` table (whose indexed columns must also agree with each body), or a file of
 * Kafka message values (`sentinel audit export-kafka`), which holds each chain's records spread
 * over partitions and possibly twice (at-least-once delivery across producer restarts).
 */
import { readFileSync } from "node:fs";
import type { Store } from "../store/store.js";
import type { AuditRecord } from "./record.js";
import { recordColumns } from "./sinks/store-sink.js";
import { listSegments, readSegment } from "./spool-files.js";
import type { ChainVerifier } from "./verify.js";

export function verifySpool(dir: string, verifier: ChainVerifier, warnings: string[]): void {
  for (const seg of listSegments(dir)) {
    const { lines, validBytes, size } = readSegment(seg.path);
    for (const { record } of lines) {
      if (verifier.inRange(record) && !verifier.push(record)) return;
    }
    if (validBytes < size) warnings.push(`${seg.path}: ${size - validBytes} bytes after the last complete record (a write in progress, or a crash; cut on the next start)`);
  }
}

const STORE_COLUMNS = ["chain_id", "seq", "kind", "record_id", "at", "tenant", "user_id", "role", "session_id", "connection", "method", "target", "name", "decision", "rule_id", "outcome", "error_code", "prev_hash", "hash"];

function columnProblem(row: Record<string, unknown>, record: AuditRecord): string | undefined {
  const expected = recordColumns(record);
  for (let i = 0; i < STORE_COLUMNS.length; i++) {
    const col = STORE_COLUMNS[i]!;
    let actual = row[col];
    let want = expected[i];
    if (col === "at") {
      actual = actual instanceof Date ? actual.getTime() : Date.parse(String(actual));
      want = Date.parse(String(want));
    } else if (col === "seq") {
      actual = Number(actual);
    }
    if ((actual ?? null) !== (want ?? null)) return `the row's column ${col} (${JSON.stringify(actual)}) disagrees with its body (${JSON.stringify(want)}): the row was edited`;
  }
  return undefined;
}

export async function verifyStore(store: Store, verifier: ChainVerifier, chain?: string): Promise<void> {
  let after: [string, number] = [chain ?? "", 0];
  const page = 2000;
  for (;;) {
    const rows = await store.query(
      `SELECT ${STORE_COLUMNS.join(",")}, body FROM audit_records
       WHERE (chain_id, seq) > ($1, $2) ${chain === undefined ? "" : "AND chain_id = $3"}
       ORDER BY chain_id, seq LIMIT ${page}`,
      chain === undefined ? after : [...after, chain],
    );
    for (const row of rows) {
      const seq = Number(row.seq);
      let record: AuditRecord;
      let problem: string | undefined;
      try {
        record = JSON.parse(String(row.body)) as AuditRecord;
        problem = columnProblem(row, record);
      } catch {
        // Unparseable: report it as such rather than as a malformed record.
        record = { v: 1, chain: String(row.chain_id), seq, id: String(row.record_id), prev: String(row.prev_hash), hash: String(row.hash) } as AuditRecord;
        problem = "its body is not valid JSON: the row was edited";
      }
      if (!verifier.inRange({ seq, time: record.time ?? new Date(String(row.at)).toISOString() })) continue;
      if (!verifier.push(record, problem)) return;
    }
    if (rows.length < page) return;
    const last = rows.at(-1)!;
    after = [String(last.chain_id), Number(last.seq)];
  }
}

export function verifyKafkaFile(file: string, verifier: ChainVerifier, warnings: string[]): void {
  const records: AuditRecord[] = [];
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        records.push(JSON.parse(line) as AuditRecord);
      } catch {
        throw new Error(`${file}:${i + 1}: not a JSON record`);
      }
    });
  records.sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : a.seq - b.seq));
  let duplicates = 0;
  let prev: AuditRecord | undefined;
  for (const r of records) {
    // The same record delivered twice is a duplicate, not tampering; a different record
    // under the same seq is a failure, which the verifier reports as out of order.
    if (prev !== undefined && prev.chain === r.chain && prev.seq === r.seq && prev.hash === r.hash) {
      duplicates++;
      continue;
    }
    prev = r;
    if (verifier.inRange(r) && !verifier.push(r)) return;
  }
  if (duplicates > 0) warnings.push(`${duplicates} records appear more than once in ${file} (redelivered); each was checked once`);
}
