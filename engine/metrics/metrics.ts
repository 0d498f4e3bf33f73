/**
 * Request counters and per-stage latency, kept in HDR histograms (microsecond resolution, three
 * significant digits, up to 10 minutes) and exposed in the Prometheus text format at /metrics.
 * Recording is a couple of array writes; nothing here allocates per call once a label set exists.
 */
import * as hdr from "hdr-histogram-js";

export const STAGES = ["resolve", "guard", "policy", "vault", "forward", "total"] as const;
export type Stage = (typeof STAGES)[number];

const QUANTILES = [0.5, 0.9, 0.99, 0.999] as const;

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

export class Metrics {
  private readonly stages = new Map<Stage, hdr.Histogram>(STAGES.map((s) => [s, newHistogram()]));
  private readonly requests = new Map<string, number>();
  private readonly refusals = new Map<string, number>();
  readonly startedAt = Date.now();
  activeSessions = 0;

  /** Records one stage's duration in microseconds. */
  recordStage(stage: Stage, micros: number): void {
    this.stages.get(stage)!.recordValue(Math.max(1, Math.round(micros)));
  }

  countRequest(connection: string, method: string, outcome: "forwarded" | "refused"): void {
    const key = `connection="${esc(connection)}",method="${esc(method)}",outcome="${outcome}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  countRefusal(code: string): void {
    this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
  }

  stageQuantile(stage: Stage, q: number): number {
    return this.stages.get(stage)!.getValueAtPercentile(q * 100);
  }

  prometheus(): string {
    const lines: string[] = [];
    lines.push("# HELP sentinel_requests_total MCP requests handled, by connection, method and outcome.");
    lines.push("# TYPE sentinel_requests_total counter");
    for (const [labels, n] of this.requests) lines.push(`sentinel_requests_total{${labels}} ${n}`);
    lines.push("# HELP sentinel_refusals_total Requests the gateway refused, by error code.");
    lines.push("# TYPE sentinel_refusals_total counter");
    for (const [code, n] of this.refusals) lines.push(`sentinel_refusals_total{code="${code}"} ${n}`);
    lines.push("# HELP sentinel_stage_latency_seconds Latency of each pipeline stage (HDR histogram quantiles).");
    lines.push("# TYPE sentinel_stage_latency_seconds summary");
    for (const [stage, h] of this.stages) {
      for (const q of QUANTILES) {
        lines.push(`sentinel_stage_latency_seconds{stage="${stage}",quantile="${q}"} ${h.totalCount === 0 ? "NaN" : (h.getValueAtPercentile(q * 100) / 1e6).toString()}`);
      }
      lines.push(`sentinel_stage_latency_seconds_count{stage="${stage}"} ${h.totalCount}`);
    }
    lines.push("# HELP sentinel_sessions_active Open MCP sessions.");
    lines.push("# TYPE sentinel_sessions_active gauge");
    lines.push(`sentinel_sessions_active ${this.activeSessions}`);
    lines.push("# HELP sentinel_uptime_seconds Seconds since the gateway started.");
    lines.push("# TYPE sentinel_uptime_seconds gauge");
    lines.push(`sentinel_uptime_seconds ${((Date.now() - this.startedAt) / 1000).toFixed(0)}`);
    return lines.join("\n") + "\n";
  }
}

const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
