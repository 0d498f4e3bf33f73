/**
 * Policy evaluation in a Piscina pool, over the shared snapshot.
 *
 * Kept warm (workers never idle out) and pipelined (many tasks per worker), because on these
 * 2-core machines an idle worker's wake-up costs more than evaluating the rule itself. The
 * bench (bench/micro/policy.bench.ts) measures this path against inline evaluation in the same
 * run; see the README for which one the gateway uses for which calls.
 */
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import type { PolicyInput } from "./compile-policy.js";
import { encodePolicySource, type PolicySource } from "./policy-snapshot.js";
import type { PoolResult } from "./policy-worker.js";
import { toPoolTask } from "./pool-task.js";
import { SnapshotBuffer } from "./snapshot.js";

export interface PolicyPoolOptions {
  readonly threads?: number;
  readonly concurrentTasksPerWorker?: number;
  /** Initial snapshot capacity in bytes; the pool is rebuilt on a larger buffer when exceeded. */
  readonly capacity?: number;
}

export class PolicyPool {
  private snapshot: SnapshotBuffer;
  private pool: Piscina;

  constructor(
    source: PolicySource,
    private readonly options: PolicyPoolOptions = {},
  ) {
    const bytes = encodePolicySource(source);
    this.snapshot = new SnapshotBuffer(Math.max(options.capacity ?? 1 << 20, bytes.byteLength * 2));
    this.snapshot.publish(bytes);
    this.pool = this.createPool();
  }

  get generation(): number {
    return this.snapshot.generation();
  }

  /** Publishes a new rule set; tasks already queued see either the old or the new one whole. */
  publish(source: PolicySource): number {
    const bytes = encodePolicySource(source);
    if (bytes.byteLength <= this.snapshot.capacity) return this.snapshot.publish(bytes);
    // Workers hold the old buffer; a bigger one needs new workers. Rare: capacity doubles.
    // Tasks already queued finish on the old pool and its last snapshot.
    const old = this.pool;
    this.snapshot = new SnapshotBuffer(bytes.byteLength * 2);
    const generation = this.snapshot.publish(bytes);
    this.pool = this.createPool();
    void old.close();
    return generation;
  }

  evaluate(input: PolicyInput, usageIds?: readonly string[]): Promise<PoolResult> {
    return this.pool.run(toPoolTask(input, usageIds)) as Promise<PoolResult>;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private createPool(): Piscina {
    const here = fileURLToPath(import.meta.url);
    const source = here.endsWith(".ts");
    return new Piscina({
      filename: here.replace(/policy-pool\.(ts|js)$/, `policy-worker.$1`),
      // Source checkouts (tests) run TypeScript workers through tsx; the built gateway runs JS.
      execArgv: source ? ["--import", "tsx"] : [],
      workerData: { snapshot: this.snapshot.buffer },
      minThreads: this.options.threads ?? 1,
      maxThreads: this.options.threads ?? 1,
      concurrentTasksPerWorker: this.options.concurrentTasksPerWorker ?? 16,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      atomics: "async",
    });
  }
}
