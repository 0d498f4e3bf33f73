/**
 * The audit write path. `emitCall` is what the pipeline pays per call: it appends the call's
 * trace object to an in-memory batch and schedules the flusher, nothing else (no encoding, no
 * hashing, no I/O). The flusher runs on the next turn of the event loop: it turns the batch into
 * records, seals them onto the hash chain (adding a signed checkpoint every N records or T ms),
 * writes them to the spool in one write(2), then publishes them to the decision stream, releases
 * the responses waiting on them and starts an fsync; synced records wake the sink shippers.
 *
 * Acknowledgement, per `audit.durability`:
 * - `written` (default): a call's response is released once its record is written to the spool
 *   file. A kill -9 of the gateway loses no record of an answered call (the kernel holds the
 *   bytes); a power loss can lose the records since the last fsync, at most one batch interval.
 * - `fsync`: released once the record is fsynced; survives power loss, adds an fsync to latency.
 * - `async`: released at once; a kill -9 can lose the records of the last few milliseconds.
 * The emit itself never waits in any mode; only the release of the response does.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { CallTrace } from "./call-trace.js";
import { checkpointRecord, seal, type ChainHead } from "./chain.js";
import { callRecord } from "./call-record.js";
import { DecisionStream } from "./decision-stream.js";
import type { AdminChange, ArgumentsMode, AuditRecord, UnsealedRecord } from "./record.js";
import type { Shipper } from "./shipper.js";
import type { Signer } from "./signer.js";
import type { Spool } from "./spool.js";

export type Durability = "async" | "written" | "fsync";

export interface AuditLogOptions {
  readonly argumentsMode: ArgumentsMode;
  readonly durability: Durability;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  /** Above this many spool bytes the gateway refuses new calls (fail closed) until sinks catch up. */
  readonly maxSpoolBytes: number;
  /**
   * With nothing waiting on an fsync (durability `written` or `async`), syncs start at most this
   * often. Back to back, one fsync is always in flight under load, keeping a thread-pool thread
   * and the disk busy for no answer; a short interval covers the same batches with far fewer.
   */
  readonly syncIntervalMs?: number;
  readonly log: (line: string) => void;
}

interface WrittenBatch {
  readonly lastSeq: number;
  readonly records: AuditRecord[];
  readonly waiters: Array<() => void>;
}

export class AuditLog {
  readonly decisions = new DecisionStream();
  readonly counters = { emitted: 0, written: 0, checkpoints: 0, syncs: 0, writeErrors: 0, refusedBackpressure: 0 };
  private pending: Array<CallTrace | UnsealedRecord> = [];
  private waiters: Array<() => void> = [];
  private unwritten: WrittenBatch[] = [];
  private syncWaiters: Array<{ seq: number; fn: () => void }> = [];
  private head: ChainHead;
  private lastCheckpointSeq: number;
  private lastCheckpointAt = Date.now();
  private scheduled = false;
  private syncing = false;
  private syncAgain = false;
  private lastSyncAt = -Infinity;
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly spool: Spool,
    private readonly signer: Signer,
    private readonly options: AuditLogOptions,
    readonly shippers: readonly Shipper[] = [],
  ) {
    this.head = spool.head;
    this.lastCheckpointSeq = spool.head.seq;
    this.timer = setInterval(() => this.tick(), Math.min(options.checkpointIntervalMs, 1000));
    this.timer.unref();
    for (const s of shippers) s.start();
  }

  get chainHead(): ChainHead {
    return this.head;
  }

  /** False while the spool is over its bound or cannot be written: new calls are refused. */
  get accepting(): boolean {
    return this.spool.failure === undefined && this.spool.bytes < this.options.maxSpoolBytes;
  }

  /** The hot path: O(1), no I/O, no encoding. */
  emitCall(trace: CallTrace): void {
    trace.emittedAt = performance.now();
    this.pending.push(trace);
    this.counters.emitted++;
    if (!this.scheduled) this.schedule();
  }

  /**
   * One record per admin change (config apply, reload, the admin API, vault events). A change
   * that concerns one tenant (a credential's rotation) carries it, so the tenant's audit query
   * finds it next to its calls.
   */
  recordAdminChange(change: AdminChange, tenant?: string): void {
    this.pending.push({ v: 1, kind: "admin", id: randomUUID(), time: new Date().toISOString(), tenant, admin: change });
    this.counters.emitted++;
    if (!this.scheduled) this.schedule();
  }

  /**
   * Runs `fn` once the record emitted just before is acknowledged per `durability`. Must be
   * called in the same turn as the emit, so that `fn` joins that record's batch.
   */
  whenDurable(fn: () => void): void {
    if (this.options.durability === "async") return fn();
    if (this.options.durability === "written") {
      this.waiters.push(fn);
      return;
    }
    this.waiters.push(() => {
      this.syncWaiters.push({ seq: this.spool.writtenSeq, fn });
      this.requestSync();
    });
  }

  private schedule(): void {
    this.scheduled = true;
    setImmediate(() => this.flushNow());
  }

  /** Seals and writes everything pending. Synchronous: the batch is in the page cache on return. */
  flushNow(forceCheckpoint = false): void {
    this.scheduled = false;
    const items = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    const firstSeq = this.head.seq + 1;
    const records: AuditRecord[] = [];
    let text = "";
    const add = (unsealed: UnsealedRecord) => {
      const { record, line } = seal(unsealed, this.head);
      this.head = { chain: this.head.chain, seq: record.seq, hash: record.hash };
      records.push(record);
      text += line + "\n";
    };
    const now = performance.now();
    for (const item of items) {
      add(item instanceof CallTrace ? callRecord(item, now, this.options.argumentsMode) : item);
      if (this.head.seq - this.lastCheckpointSeq >= this.options.checkpointEvery) add(this.checkpoint());
    }
    if (this.head.seq > this.lastCheckpointSeq && (forceCheckpoint || Date.now() - this.lastCheckpointAt >= this.options.checkpointIntervalMs)) {
      add(this.checkpoint());
    }
    if (records.length === 0) {
      for (const fn of waiters) fn();
      return;
    }
    this.unwritten.push({ lastSeq: this.head.seq, records, waiters });
    if (!this.spool.append(Buffer.from(text, "utf8"), firstSeq, this.head.seq)) {
      this.counters.writeErrors++;
      this.options.log(`audit spool write failed (${this.spool.failure?.message}); records are held in memory and new calls refused until it recovers`);
    }
    this.afterWrite();
  }

  /** Releases batches the spool has written, in order. */
  private afterWrite(): void {
    while (this.unwritten.length > 0 && this.unwritten[0]!.lastSeq <= this.spool.writtenSeq) {
      const batch = this.unwritten.shift()!;
      this.counters.written += batch.records.length;
      this.decisions.publish(batch.records);
      for (const fn of batch.waiters) fn();
    }
    this.requestSync();
  }

  private requestSync(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    if (this.spool.syncedSeq >= this.spool.writtenSeq) return;
    // An answer waiting on the fsync (durability fsync) starts it at once; otherwise only the
    // sinks wait, and the sync keeps to its interval.
    const wait = this.syncWaiters.length > 0 ? 0 : (this.options.syncIntervalMs ?? 0) - (performance.now() - this.lastSyncAt);
    if (wait > 0) {
      if (this.syncTimer === undefined) {
        this.syncTimer = setTimeout(() => {
          this.syncTimer = undefined;
          this.requestSync();
        }, wait);
        this.syncTimer.unref();
      }
      return;
    }
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    this.syncing = true;
    this.lastSyncAt = performance.now();
    this.counters.syncs++;
    this.spool.sync().then(
      () => {
        this.syncing = false;
        const synced = this.spool.syncedSeq;
        if (this.syncWaiters.length > 0) {
          const ready = this.syncWaiters.filter((w) => w.seq <= synced);
          this.syncWaiters = this.syncWaiters.filter((w) => w.seq > synced);
          for (const w of ready) w.fn();
        }
        for (const s of this.shippers) s.wake();
        if (this.syncAgain) {
          this.syncAgain = false;
          this.requestSync();
        }
      },
      (err: Error) => {
        this.syncing = false;
        this.counters.writeErrors++;
        this.options.log(`audit spool fsync failed: ${err.message}; retrying`);
        setTimeout(() => this.requestSync(), 100).unref();
      },
    );
  }

  private checkpoint(): UnsealedRecord {
    this.lastCheckpointSeq = this.head.seq + 1;
    this.lastCheckpointAt = Date.now();
    this.counters.checkpoints++;
    return checkpointRecord(this.head, this.signer);
  }

  /** Periodic work: time-based checkpoints, retrying a failed write, pruning shipped segments. */
  private tick(): void {
    if (this.spool.pendingWrite) {
      this.spool.retry();
      this.afterWrite();
    }
    if (this.head.seq > this.lastCheckpointSeq && Date.now() - this.lastCheckpointAt >= this.options.checkpointIntervalMs && !this.scheduled) {
      this.schedule();
    }
    if (this.shippers.length > 0) this.spool.prune(Math.min(...this.shippers.map((s) => s.acked)));
  }

  /** Writes and fsyncs everything emitted so far, ending with a checkpoint. */
  async flush(): Promise<void> {
    this.flushNow(true);
    await this.spool.sync();
    for (const s of this.shippers) s.wake();
  }

  /** Flushes, ships what sinks can take within `drainMs`, and releases the spool. */
  async close(drainMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
    // The flush synced everything; a background sync it asked for has nothing left to do.
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    await Promise.all(this.shippers.map((s) => s.stop(drainMs)));
    await this.spool.close();
  }
}
