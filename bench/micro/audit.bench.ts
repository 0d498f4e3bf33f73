/**
 * Audit micro-benchmarks: what emitting a record costs the call (the pipeline's side: fill the
 * per-call trace and append it to the in-memory batch), and how many records per second the
 * flusher seals (canonical encoding + SHA-256 chain), signs (an Ed25519 checkpoint every 1000
 * records) and writes to the spool, with and without an fsync per batch of 1000; and what the
 * pipeline's audited exchange adds per answer: a notification's 202, and a streamed answer (open,
 * one progress event, the answering event, close), each recorded and held for the spool.
 *
 *   node --import tsx bench/micro/audit.bench.ts [--quick]
 *
 * Everything runs on the main thread, so the numbers are for one core.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Bench } from "tinybench";
import { AuditLog } from "../../engine/audit/audit-log.js";
import { ed25519Signer } from "../../engine/audit/signer.js";
import { Spool } from "../../engine/audit/spool.js";
import { markdownTable, writeMicroResult } from "./output.js";
import { traceFor } from "../../test/support/audit-fixtures.js";
import { AuditedExchange } from "../../engine/gateway/audited-exchange.js";
import type { DownstreamExchange, DownstreamStream } from "../../engine/gateway/downstream.js";
import type { JsonRpcResponse } from "../../engine/mcp/jsonrpc.js";

const quick = process.argv.includes("--quick");
const EMIT_BATCH = 100;
const SPOOL_BATCH = 1000;

function openLog(dir: string): AuditLog {
  const { privateKey } = generateKeyPairSync("ed25519");
  return new AuditLog(Spool.open(dir, { segmentBytes: 64 << 20 }), ed25519Signer(privateKey), {
    argumentsMode: "redacted",
    durability: "written",
    checkpointEvery: 1000,
    checkpointIntervalMs: 60_000,
    maxSpoolBytes: 8 << 30,
    log: () => undefined,
  });
}

/** The front's side as a no-op, so only the audited exchange's own work is timed. */
const nullStream: DownstreamStream = { closed: false, send: () => undefined, close: () => undefined };
const nullExchange: DownstreamExchange = {
  aborted: false,
  onAbort: () => undefined,
  setHeader: () => undefined,
  sendJson: () => undefined,
  sendText: () => undefined,
  sendEmpty: () => undefined,
  openStream: () => nullStream,
};
const answer: JsonRpcResponse = { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "ok" }] } };
const answerEvent = { data: JSON.stringify(answer) };
const progressEvent = { data: JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "p", progress: 1 } }) };

function dropPending(log: AuditLog): void {
  const inside = log as unknown as { pending: unknown[]; waiters: unknown[]; scheduled: boolean };
  inside.pending.length = 0;
  inside.waiters.length = 0;
}

async function main(): Promise<void> {
  const dirs = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), "sentinel-audit-bench-")));
  const [emitLog, writeLog, fsyncLog] = dirs.map(openLog) as [AuditLog, AuditLog, AuditLog];
  const prebuilt = Array.from({ length: SPOOL_BATCH }, (_, i) => traceFor(i));
  const release = () => undefined;

  const bench = new Bench({ time: quick ? 500 : 3000, warmupTime: quick ? 100 : 500 });
  bench.add(
    "emit: build the call's trace + emitCall + whenDurable (per call)",
    () => {
      for (let i = 0; i < EMIT_BATCH; i++) {
        emitLog.emitCall(traceFor(i));
        emitLog.whenDurable(release);
      }
    },
    // The flusher's work is measured by the next two tasks; here the batch is dropped after each
    // iteration (reaching into the log's private arrays) so memory stays flat and disk untouched.
    { afterEach: () => dropPending(emitLog) },
  );
  bench.add(
    "audited exchange: a notification's 202, recorded and held (per call)",
    () => {
      for (let i = 0; i < EMIT_BATCH; i++) new AuditedExchange(nullExchange, emitLog, traceFor(i), undefined).sendEmpty(202);
    },
    { afterEach: () => dropPending(emitLog) },
  );
  bench.add(
    "audited exchange: a streamed answer (open, progress, answer, close), recorded and held (per call)",
    () => {
      for (let i = 0; i < EMIT_BATCH; i++) {
        const stream = new AuditedExchange(nullExchange, emitLog, traceFor(i), 1).openStream();
        stream.send(progressEvent);
        stream.send(answerEvent, answer);
        stream.close();
      }
    },
    { afterEach: () => dropPending(emitLog) },
  );
  bench.add("spool: seal + hash + sign + write, no fsync (per record)", () => {
    for (const t of prebuilt) writeLog.emitCall(t);
    writeLog.flushNow();
  });
  bench.add("spool: seal + hash + sign + write + fsync per batch of 1000 (per record)", async () => {
    for (const t of prebuilt) fsyncLog.emitCall(t);
    fsyncLog.flushNow();
    await fsyncLog.spool.sync();
  });
  await bench.run();

  const per = [EMIT_BATCH, EMIT_BATCH, EMIT_BATCH, SPOOL_BATCH, SPOOL_BATCH];
  const rows = bench.tasks.map((t, i) => {
    const r = t.result as unknown as { latency: { p50: number; p99: number; mean: number } };
    const mean = (r.latency.mean * 1000) / per[i]!;
    return {
      task: t.name,
      "p50 µs": ((r.latency.p50 * 1000) / per[i]!).toFixed(2),
      "p99 µs": ((r.latency.p99 * 1000) / per[i]!).toFixed(2),
      "mean µs": mean.toFixed(2),
      "records/s": Math.round(1e6 / mean).toLocaleString("en-US"),
    };
  });
  const emitP50 = Number(rows[0]!["p50 µs"]);
  const throughput = Math.round(1e6 / Number(rows[4]!["mean µs"]));
  const lines = [
    markdownTable(rows),
    "",
    `hot-path emit: ${emitP50} µs p50 per call (target ≤ 5 µs): ${emitP50 <= 5 ? "met" : "NOT met"}`,
    "",
    `spool append with hashing, signing and fsync per batch: ${throughput.toLocaleString("en-US")} records/s (target ≥ 50,000): ${throughput >= 50_000 ? "met" : "NOT met"}`,
    "",
    `records written: ${[emitLog, writeLog, fsyncLog].map((l) => l.chainHead.seq).join(", ")}; checkpoints: ${[emitLog, writeLog, fsyncLog].map((l) => l.counters.checkpoints).join(", ")}`,
  ];
  writeMicroResult("audit", { rows, emitP50Micros: emitP50, spoolRecordsPerSecond: throughput }, lines.join("\n"));
  for (const l of [emitLog, writeLog, fsyncLog]) await l.close(0);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

await main();
