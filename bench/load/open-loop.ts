/**
 * Open-loop load at a fixed rate, with coordinated-omission correction.
 *
 * Requests follow a schedule (one every 1/rate seconds) whatever the target does, and each
 * latency is measured from the request's *intended* send time. A target that stalls therefore
 * pays for every request that should have been sent during the stall, as real independent
 * clients would experience it — unlike closed loop, where a stall also stops the clock.
 *
 * The schedule is kept by a worker-thread clock (pacer.ts) because Node's own timers are too
 * coarse. The generator's remaining lateness against the schedule is recorded (`lateness`),
 * and so is the uncorrected latency from the actual send (`service`).
 */
import type { LoadResult } from "./closed-loop.js";
import { newHistogram, recordMillis } from "./histogram.js";
import type { McpClient, McpSession } from "./mcp-client.js";
import { clockMillis, startPacer } from "./pacer.js";

export interface OpenLoopOptions {
  /** Requests per second. */
  readonly rate: number;
  readonly durationMs: number;
  /** Beyond this many requests in flight the target is overloaded: further sends are dropped and counted. */
  readonly maxInFlight: number;
}

export async function runOpenLoop(client: McpClient, sessions: readonly McpSession[], options: OpenLoopOptions): Promise<LoadResult> {
  if (sessions.length === 0) throw new Error("open loop needs at least one session");
  const interval = 1000 / options.rate;
  const total = Math.max(1, Math.floor((options.rate * options.durationMs) / 1000));
  const latency = newHistogram();
  const service = newHistogram();
  const lateness = newHistogram();
  let inFlight = 0;
  let ok = 0;
  let errors = 0;
  let dropped = 0;
  let allAnswered: (() => void) | undefined;

  const send = (index: number, intended: number): void => {
    if (inFlight >= options.maxInFlight) {
      dropped++;
      return;
    }
    const sentAt = clockMillis();
    recordMillis(lateness, sentAt - intended);
    inFlight++;
    void client.call(sessions[index % sessions.length]!).then((outcome) => {
      const done = clockMillis();
      inFlight--;
      if (outcome.ok) {
        ok++;
        recordMillis(latency, done - intended);
        recordMillis(service, done - sentAt);
      } else {
        errors++;
      }
      if (inFlight === 0) allAnswered?.();
    });
  };

  const started = clockMillis();
  const pacer = await startPacer(total, interval, send);
  await pacer.finished;
  if (inFlight > 0) await new Promise<void>((resolve) => (allAnswered = resolve));
  const elapsedMs = clockMillis() - started;
  return { ok, errors, dropped, elapsedMs, throughput: (ok * 1000) / elapsedMs, latency, service, lateness };
}
