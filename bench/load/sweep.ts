/**
 * The highest rate a target sustains within a latency objective: open-loop runs at fixed
 * rates, bisecting between the highest rate that met the objective and the lowest that did
 * not, for a bounded number of steps.
 *
 * A rate meets the objective when every request was answered correctly, none was dropped, the
 * target kept up (answers per second at least 95% of the offered rate), and the p99 latency —
 * coordinated-omission corrected, from each request's intended send time — stays within the
 * objective. The search starts between 0 and a ceiling a little above the target's closed-loop
 * saturation throughput, so `steps` probes give a resolution of ceiling / 2^steps.
 */
import type { LoadResult } from "./closed-loop.js";
import { summarize, type LatencySummary } from "./histogram.js";

export interface SweepOptions {
  /** The upper end of the search, requests per second. */
  readonly ceiling: number;
  readonly steps: number;
  /** p99 objective, microseconds. */
  readonly objectiveMicros: number;
  readonly durationMs: number;
  /** Unrecorded load at each new rate first, so a step does not start from the previous one's state. */
  readonly settleMs: number;
}

export interface SweepStep {
  /** Offered rate, requests per second. */
  readonly rate: number;
  /** Correct answers per second. */
  readonly throughput: number;
  readonly errors: number;
  readonly dropped: number;
  /** Microseconds, from the intended send time. */
  readonly latency: LatencySummary;
  readonly pass: boolean;
}

export interface SweepResult {
  readonly objectiveMicros: number;
  readonly ceiling: number;
  /** In the order they ran. */
  readonly steps: SweepStep[];
  /** The highest offered rate that met the objective; null when none did. */
  readonly sustainedRate: number | null;
  /** The lowest rate that missed it (the search's upper bracket); null when every probe met it. */
  readonly failedRate: number | null;
}

/** Share of the offered rate a target must answer for the step to count as keeping up. */
const KEEPS_UP = 0.95;

export async function runSweep(runAt: (rate: number, durationMs: number) => Promise<LoadResult>, options: SweepOptions): Promise<SweepResult> {
  let lo = 0;
  let hi = options.ceiling;
  const steps: SweepStep[] = [];
  for (let i = 0; i < options.steps; i++) {
    const rate = Math.max(1, Math.round((lo + hi) / 2));
    if (rate <= lo || rate >= hi) break; // the bracket is down to one request per second
    if (options.settleMs > 0) await runAt(rate, options.settleMs);
    const r = await runAt(rate, options.durationMs);
    const latency = summarize(r.latency);
    const pass = r.errors === 0 && r.dropped === 0 && r.throughput >= rate * KEEPS_UP && latency.p99 <= options.objectiveMicros;
    steps.push({ rate, throughput: Math.round(r.throughput), errors: r.errors, dropped: r.dropped, latency, pass });
    if (pass) lo = rate;
    else hi = rate;
  }
  return {
    objectiveMicros: options.objectiveMicros,
    ceiling: options.ceiling,
    steps,
    sustainedRate: lo > 0 ? lo : null,
    failedRate: hi < options.ceiling ? hi : null,
  };
}
