/**
 * The plots of an end-to-end suite, from its stored results: the latency distribution of each
 * target (open loop, all rounds merged, as a percentile curve on logarithmic axes), and the
 * rate sweep (offered rate against p99 latency, with the objective).
 */
import * as hdr from "hdr-histogram-js";
import { newHistogram } from "../load/histogram.js";
import { lineChart, type Series } from "../lib/svg.js";
import type { ComparisonResult } from "./comparison.js";

export interface Plot {
  readonly file: string;
  readonly caption: string;
  readonly svg: string;
}

/** Latency labels: microseconds below a millisecond, milliseconds above. */
export const latencyLabel = (micros: number): string => (micros < 1000 ? `${micros} µs` : `${micros / 1000} ms`);

/** Percentile axis ticks: the x value is 1 / (1 − q), so each "nine" takes the same width. */
const PERCENTILE_TICKS: ReadonlyArray<readonly [number, string]> = [
  [1, "0%"],
  [2, "50%"],
  [10, "90%"],
  [100, "99%"],
  [1000, "99.9%"],
  [10_000, "99.99%"],
];

export function comparisonPlots(suite: string, r: ComparisonResult): Plot[] {
  const plots: Plot[] = [];
  const label = (id: string): string => r.targets.find((t) => t.id === id)?.label ?? id;
  const open = r.modes.open;
  if (open !== undefined) {
    const series: Series[] = [];
    for (const spec of r.targets) {
      const merged = newHistogram();
      for (const m of open.measurements) if (m.target === spec.id) merged.add(hdr.decodeFromCompressedBase64(m.histogram));
      if (merged.totalCount === 0) continue;
      const points: Array<[number, number]> = [];
      // Ten points per decade of 1 / (1 − q), up to what the sample count can resolve.
      for (let k = 0; k <= 40; k++) {
        const q = 1 - 10 ** (-k / 10);
        if (k > 0 && 1 - q < 1 / merged.totalCount) break;
        points.push([1 / (1 - q), merged.getValueAtPercentile(q * 100)]);
      }
      series.push({ label: label(spec.id), points });
    }
    plots.push({
      file: `${suite}-latency.svg`,
      caption: `${r.title}: latency distribution per target, open loop at ${r.settings.rate} req/s, coordinated-omission corrected, all rounds merged`,
      svg: lineChart({
        title: `Latency distribution — ${suite}`,
        subtitle: `tools/call, open loop at ${r.settings.rate} req/s, ${r.settings.rounds} × ${r.settings.durationSec} s per target, from the intended send time`,
        x: { label: "percentile", scale: "log", min: 1, max: 10_000, ticks: PERCENTILE_TICKS },
        y: { label: "latency", scale: "log", format: latencyLabel },
        series,
      }),
    });
  }
  if (r.sweep !== undefined) {
    const series: Series[] = Object.entries(r.sweep).map(([id, sw]) => {
      const steps = [...sw.steps].sort((a, b) => a.rate - b.rate);
      return { label: label(id), points: steps.map((st) => [st.rate, st.latency.p99] as const), markers: true, hollow: steps.map((st) => !st.pass) };
    });
    plots.push({
      file: `${suite}-sweep.svg`,
      caption: `${r.title}: offered rate against p99 latency in the rate sweep; hollow points missed the objective`,
      svg: lineChart({
        title: `Throughput against latency — ${suite}`,
        subtitle: `open-loop rate sweep, ${r.settings.sweepDurationSec} s per probe; hollow points missed the objective (p99, errors, drops or < 95% answered)`,
        x: { label: "offered rate (requests per second)", scale: "log", format: (v) => v.toLocaleString("en-US") },
        y: { label: "p99 latency", scale: "log", format: latencyLabel },
        series,
        referenceLines: [{ y: r.settings.sloMs * 1000, label: `objective: p99 ≤ ${r.settings.sloMs} ms` }],
      }),
    });
  }
  return plots;
}
