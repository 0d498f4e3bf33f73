/**
 * Large payloads are scanned and counted in a Piscina pool, so a megabyte of arguments does not
 * stall every other call on the event loop. Small ones stay inline: a worker round trip costs
 * more than scanning them (bench/micro/guard.bench.ts measures both; the README has the numbers).
 *
 * The pool starts on first use, so a gateway that never sees a large payload runs no threads.
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import type { ScanResult, ScanTask } from "./scan-worker.js";

export class ScanPool {
  private pool: Piscina | undefined;

  constructor(private readonly threads = Math.max(1, availableParallelism() - 1)) {}

  /** Tasks run so far (metrics, and tests that check the pool path was taken). */
  get completed(): number {
    return this.pool?.completed ?? 0;
  }

  run(task: ScanTask): Promise<ScanResult> {
    this.pool ??= this.createPool();
    return this.pool.run(task) as Promise<ScanResult>;
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  private createPool(): Piscina {
    const here = fileURLToPath(import.meta.url);
    return new Piscina({
      filename: here.replace(/scan-pool\.(ts|js)$/, "scan-worker.$1"),
      // Source checkouts (tests) run TypeScript workers through tsx; the built gateway runs JS.
      execArgv: here.endsWith(".ts") ? ["--import", "tsx"] : [],
      minThreads: 1,
      maxThreads: this.threads,
      // Each task is milliseconds of native scanning; a few in flight per worker keep it busy.
      concurrentTasksPerWorker: 2,
      idleTimeout: 60_000,
    });
  }
}
