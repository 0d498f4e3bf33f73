/**
 * Closed-loop load: N workers, each sending its next request as soon as the previous answer
 * is complete. This finds the throughput a target sustains at that concurrency (its
 * saturation point when N is large enough) and the latency it gives at that load.
 *
 * Latency here is measured from the actual send. That is coordinated omission by design — a
 * stalled target also stalls the workers — which is why latency objectives are read from the
 * open-loop mode, and this mode is used for throughput.
 */
import { performance } from "node:perf_hooks";
import { newHistogram, recordMillis, type Histogram } from "./histogram.js";
import type { McpClient, McpSession } from "./mcp-client.js";

export interface ClosedLoopOptions {
  readonly concurrency: number;
  readonly durationMs: number;
}

export interface LoadResult {
  /** Answers that were correct. */
  readonly ok: number;
  /** Failed requests and wrong answers. */
  readonly errors: number;
  /** Requests the generator could not send (open loop only: in-flight cap reached). */
  readonly dropped: number;
  readonly elapsedMs: number;
  /** Correct answers per second over the run. */
  readonly throughput: number;
  /** Latency of correct answers: from the intended send time in open loop, the actual one in closed loop. */
  readonly latency: Histogram;
  /** Open loop only: latency from the actual send (what coordinated omission would have shown). */
  readonly service?: Histogram;
  /** Open loop only: how late the generator sent each request against its schedule. */
  readonly lateness?: Histogram;
}

export async function runClosedLoop(client: McpClient, sessions: readonly McpSession[], options: ClosedLoopOptions): Promise<LoadResult> {
  if (sessions.length === 0) throw new Error("closed loop needs at least one session");
  const latency = newHistogram();
  let ok = 0;
  let errors = 0;
  const start = performance.now();
  const end = start + options.durationMs;

  const worker = async (session: McpSession): Promise<void> => {
    for (;;) {
      const sentAt = performance.now();
      if (sentAt >= end) return;
      const outcome = await client.call(session);
      if (outcome.ok) {
        recordMillis(latency, performance.now() - sentAt);
        ok++;
      } else {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(sessions[i % sessions.length]!)));
  const elapsedMs = performance.now() - start;
  return { ok, errors, dropped: 0, elapsedMs, throughput: (ok * 1000) / elapsedMs, latency };
}
