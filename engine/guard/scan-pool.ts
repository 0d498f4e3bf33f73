/**
 * Large payloads are scanned and counted in a Piscina pool, so a megabyte of arguments does not
 * stall every other call on the event loop. Small ones stay inline: a worker round trip costs
 * more than scanning them (bench/micro/guard.bench.ts measures both; the README has the numbers).
 *
 * Pattern sets reach the workers through a shared snapshot (guard-snapshot.ts), published when
 * the config changes; a task carries its spec's key and the snapshot generation, never the spec.
 * The pool starts on first use, so a gateway that never sees a large payload runs no threads.
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { SnapshotBuffer } from "../policy/snapshot.js";
import { encodeGuardSpecs, type GuardSpecs } from "./guard-snapshot.js";
import type { PostedTask, ScanResult, ScanTask } from "./scan-worker.js";

const MIN_CAPACITY = 64 * 1024;

export class ScanPool {
  private pool: Piscina | undefined;
  private snapshot = new SnapshotBuffer(MIN_CAPACITY);
  /** Tasks that had to carry their spec because a publish overtook them (tests, diagnostics). */
  specsPosted = 0;

  constructor(private readonly threads = Math.max(1, availableParallelism() - 1)) {
    this.snapshot.publish(encodeGuardSpecs(new Map()));
  }

  /** Tasks run so far (metrics, and tests that check the pool path was taken). */
  get completed(): number {
    return this.pool?.completed ?? 0;
  }

  /** Makes `specs` the pattern sets tasks can name; returns the snapshot generation. */
  publish(specs: GuardSpecs): number {
    const bytes = encodeGuardSpecs(specs);
    if (bytes.byteLength <= this.snapshot.capacity) return this.snapshot.publish(bytes);
    // Workers hold the old buffer; a bigger one needs new workers (rare: capacity doubles).
    // Tasks already queued finish on the old pool and its last snapshot.
    this.snapshot = new SnapshotBuffer(Math.max(MIN_CAPACITY, bytes.byteLength * 2));
    const generation = this.snapshot.publish(bytes);
    const old = this.pool;
    this.pool = undefined;
    void old?.close();
    return generation;
  }

  async run(task: ScanTask): Promise<ScanResult> {
    const { spec, ...rest } = task;
    const posted: PostedTask = { ...rest, specKey: spec === undefined ? "" : task.specKey, generation: this.snapshot.generation() };
    const result = await this.post(posted);
    if (result.missingSpec !== true) return result;
    // A publish dropped the key while the task waited: send the spec along this once.
    this.specsPosted++;
    return this.post({ ...posted, spec });
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  private post(task: PostedTask): Promise<ScanResult> {
    this.pool ??= this.createPool();
    return this.pool.run(task) as Promise<ScanResult>;
  }

  private createPool(): Piscina {
    const here = fileURLToPath(import.meta.url);
    return new Piscina({
      filename: here.replace(/scan-pool\.(ts|js)$/, "scan-worker.$1"),
      // Source checkouts (tests) run TypeScript workers through tsx; the built gateway runs JS.
      execArgv: here.endsWith(".ts") ? ["--import", "tsx"] : [],
      workerData: { snapshot: this.snapshot.buffer },
      minThreads: 1,
      maxThreads: this.threads,
      // Each task is milliseconds of native scanning; a few in flight per worker keep it busy.
      concurrentTasksPerWorker: 2,
      idleTimeout: 60_000,
    });
  }
}
