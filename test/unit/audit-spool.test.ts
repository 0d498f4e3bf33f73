import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readCursor, Shipper } from "../../engine/audit/shipper.js";
import type { AuditSink } from "../../engine/audit/sink.js";
import { listSegments } from "../../engine/audit/spool-files.js";
import { SpoolReader } from "../../engine/audit/spool-reader.js";
import { Spool } from "../../engine/audit/spool.js";
import { ChainVerifier } from "../../engine/audit/verify.js";
import { verifySpool } from "../../engine/audit/verify-sources.js";
import { AuditLog } from "../../engine/audit/audit-log.js";
import type { AuditRecord } from "../../engine/audit/record.js";
import { LOG_DEFAULTS, openTestLog, tempDir, testKeys, traceFor } from "../support/audit-fixtures.js";

const { signer, keys } = testKeys();
const open: AuditLog[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close(100)));
});

function logAt(dir: string, options: Parameters<typeof openTestLog>[2] = {}, shippers: Shipper[] = []): AuditLog {
  const log = openTestLog(dir, signer, options, shippers);
  open.push(log);
  return log;
}

function spoolRecords(dir: string): AuditRecord[] {
  return listSegments(dir).flatMap((s) =>
    readFileSync(s.path, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as AuditRecord),
  );
}

function verifyDir(dir: string) {
  const v = new ChainVerifier(keys);
  verifySpool(dir, v, []);
  return v.report();
}

describe("the audit log", () => {
  it("writes emitted calls to the spool on the next turn, hash-chained, with a signed checkpoint on flush", async () => {
    const dir = tempDir();
    const log = logAt(dir);
    for (let i = 0; i < 5; i++) log.emitCall(traceFor(i));
    expect(spoolRecords(dir)).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(spoolRecords(dir).map((r) => r.id)).toEqual(["trace-0", "trace-1", "trace-2", "trace-3", "trace-4"]);
    await log.flush();
    const records = spoolRecords(dir);
    expect(records.at(-1)).toMatchObject({ kind: "checkpoint", checkpoint: { covers: 5 } });
    expect(verifyDir(dir)).toMatchObject({ ok: true, warnings: [] });
  });

  it("adds a checkpoint every N records", async () => {
    const dir = tempDir();
    const log = logAt(dir, { checkpointEvery: 10 });
    for (let i = 0; i < 35; i++) log.emitCall(traceFor(i));
    log.flushNow();
    const cps = spoolRecords(dir).filter((r) => r.kind === "checkpoint").map((r) => r.seq);
    expect(cps).toEqual([11, 22, 33]);
  });

  it("releases a held answer once its record is written, and not before", async () => {
    const dir = tempDir();
    const log = logAt(dir, { durability: "written" });
    let released = false;
    log.emitCall(traceFor(1));
    log.whenDurable(() => {
      released = true;
      expect(spoolRecords(dir).some((r) => r.id === "trace-1")).toBe(true);
    });
    expect(released).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(released).toBe(true);
  });

  it("with fsync durability releases an answer only after the spool is synced", async () => {
    const dir = tempDir();
    const log = logAt(dir, { durability: "fsync" });
    log.emitCall(traceFor(1));
    const released = new Promise<number>((resolve) => log.whenDurable(() => resolve(log.spool.syncedSeq)));
    expect(await released).toBeGreaterThanOrEqual(1);
  });

  it("with written durability, background fsyncs keep to their interval, and everything written is synced within one", async () => {
    const dir = tempDir();
    const log = logAt(dir, { durability: "written", syncIntervalMs: 100 });
    const started = performance.now();
    // A batch every few milliseconds: back to back, nearly every batch would start an fsync.
    for (let i = 0; i < 60; i++) {
      log.emitCall(traceFor(i));
      await new Promise((r) => setTimeout(r, 5));
    }
    const elapsed = performance.now() - started;
    expect(log.spool.writtenSeq).toBe(60);
    expect(log.counters.syncs).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 1);
    await new Promise((r) => setTimeout(r, 150));
    expect(log.spool.syncedSeq).toBe(60);
  });

  it("an answer waiting on an fsync does not wait for the interval", async () => {
    // Were answers held for the interval, this test would time out long before it passed.
    const log = logAt(tempDir(), { durability: "fsync", syncIntervalMs: 1000 * 60 });
    log.emitCall(traceFor(1));
    await new Promise<void>((resolve) => log.whenDurable(resolve));
    // The first sync starts the interval: a second answer right after must not wait it out either.
    log.emitCall(traceFor(2));
    const synced = await new Promise<number>((resolve) => log.whenDurable(() => resolve(log.spool.syncedSeq)));
    expect(synced).toBeGreaterThanOrEqual(2);
  }, 20_000);

  it("publishes sealed calls to decision-stream subscribers, filtered", async () => {
    const log = logAt(tempDir());
    const seen: string[] = [];
    const stop = log.decisions.subscribe({ decisions: ["deny"] }, (r) => seen.push(r.id));
    log.emitCall(traceFor(1));
    log.emitCall(traceFor(2, { decision: "deny" }));
    log.flushNow();
    stop();
    log.emitCall(traceFor(3, { decision: "deny" }));
    log.flushNow();
    expect(seen).toEqual(["trace-2"]);
  });

  it("stores arguments per the configured mode", async () => {
    const dir = tempDir();
    const log = logAt(dir, { argumentsMode: "redacted" });
    log.emitCall(traceFor(1, { args: { path: "/etc/passwd" } }));
    log.flushNow();
    expect(spoolRecords(dir)[0]!.arguments).toEqual({ path: "[redacted]" });
  });

  it("refuses new calls (accepting = false) once the spool is over its bound", () => {
    const log = logAt(tempDir(), { maxSpoolBytes: 2000 });
    expect(log.accepting).toBe(true);
    for (let i = 0; i < 20; i++) log.emitCall(traceFor(i));
    log.flushNow();
    expect(log.spool.bytes).toBeGreaterThan(2000);
    expect(log.accepting).toBe(false);
  });
});

describe("the spool", () => {
  it("continues the chain after a restart", async () => {
    const dir = tempDir();
    const first = logAt(dir);
    for (let i = 0; i < 3; i++) first.emitCall(traceFor(i));
    await first.close();
    open.length = 0;
    const second = logAt(dir);
    second.emitCall(traceFor(3));
    await second.flush();
    expect(verifyDir(dir).ok).toBe(true);
    expect(spoolRecords(dir).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("cuts a torn last line left by a crash and goes on from the last whole record", async () => {
    const dir = tempDir();
    const log = logAt(dir);
    for (let i = 0; i < 3; i++) log.emitCall(traceFor(i));
    await log.close();
    open.length = 0;
    const seg = listSegments(dir)[0]!.path;
    const size = statSync(seg).size;
    appendFileSync(seg, '{"v":1,"kind":"call","chain":"x","se');
    const spool = Spool.open(dir, { segmentBytes: 1 << 20 });
    expect(statSync(seg).size).toBe(size);
    expect(spool.head.seq).toBe(4);
    await spool.close();
  });

  it("refuses a second writer while the first is alive", () => {
    const dir = tempDir();
    logAt(dir);
    writeFileSync(join(dir, "spool.lock"), `${process.ppid}\n`);
    expect(() => Spool.open(dir, { segmentBytes: 1 << 20 })).toThrow(/in use by process/);
    writeFileSync(join(dir, "spool.lock"), `${process.pid}\n`);
  });

  it("rotates segments and reads across them, only up to what is synced", async () => {
    const dir = tempDir();
    const log = new AuditLog(Spool.open(dir, { segmentBytes: 65536 }), signer, LOG_DEFAULTS);
    open.push(log);
    // A batch never straddles segments, so rotation shows between batches.
    for (let b = 0; b < 10; b++) {
      for (let i = 0; i < 200; i++) log.emitCall(traceFor(b * 200 + i, { reason: "x".repeat(100) }));
      log.flushNow();
    }
    const reader = new SpoolReader(log.spool, 1);
    expect(await reader.read(10)).toHaveLength(0);
    await log.flush();
    expect(listSegments(dir).length).toBeGreaterThan(1);
    const seqs: number[] = [];
    for (;;) {
      const batch = await reader.read(333);
      if (batch.length === 0) break;
      seqs.push(...batch.map((b) => b.record.seq));
    }
    expect(seqs).toEqual(Array.from({ length: log.chainHead.seq }, (_, i) => i + 1));
    expect(verifyDir(dir).ok).toBe(true);
  });
});

describe("shipping", () => {
  it("ships in order, persists its cursor, and retries a failing sink without losing or repeating records", async () => {
    const dir = tempDir();
    const got: number[] = [];
    let failures = 3;
    const sink: AuditSink = {
      name: "flaky",
      async write(batch) {
        if (failures-- > 0) throw new Error("sink down");
        for (const b of batch) got.push(b.record.seq);
        return batch.length;
      },
    };
    const spool = Spool.open(dir, { segmentBytes: 1 << 20 });
    const shipper = new Shipper(sink, spool, { batchSize: 7, minBackoffMs: 5, maxBackoffMs: 20, log: () => undefined });
    const log = new AuditLog(spool, signer, LOG_DEFAULTS, [shipper]);
    open.push(log);
    for (let i = 0; i < 50; i++) log.emitCall(traceFor(i));
    await log.flush();
    const deadline = Date.now() + 5000;
    while (shipper.acked < log.chainHead.seq && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(Array.from({ length: log.chainHead.seq }, (_, i) => i + 1));
    expect(readCursor(dir, "flaky")).toBe(log.chainHead.seq);
    expect(readdirSync(join(dir, "cursors"))).toEqual(["flaky.json"]);
  });
});
