/**
 * Latency histograms for the load generator: HDR histograms in microseconds, three significant
 * digits (1 µs resolution below a millisecond), up to one minute. Summaries carry the
 * percentiles the report uses; the full histogram is kept in the JSON results in HDR's
 * compressed base64 form, so plots and other percentiles can be produced later.
 */
import * as hdr from "hdr-histogram-js";

export type Histogram = hdr.Histogram;

export const MAX_TRACKABLE_MICROS = 60_000_000;

export function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: MAX_TRACKABLE_MICROS, numberOfSignificantValueDigits: 3 });
}

/** Records a duration given in milliseconds (performance.now() differences). */
export function recordMillis(h: Histogram, millis: number): void {
  h.recordValue(Math.min(MAX_TRACKABLE_MICROS, Math.max(1, Math.round(millis * 1000))));
}

export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** The percentiles the report compares, all in microseconds. */
export const PERCENTILES = ["p50", "p90", "p99", "p999"] as const;
export type Percentile = (typeof PERCENTILES)[number];
export const PERCENTILE_LABEL: Readonly<Record<Percentile, string>> = { p50: "p50", p90: "p90", p99: "p99", p999: "p99.9" };

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, mean: NaN, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN };
  return {
    count: h.totalCount,
    mean: Math.round(h.mean * 10) / 10,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

export const encodeHistogram = (h: Histogram): string => hdr.encodeIntoCompressedBase64(h);
