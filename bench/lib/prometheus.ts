/**
 * Reads Sentinel's own per-stage latency summaries from its Prometheus endpoint, so the report
 * can say where the gateway's time goes as the gateway itself measured it, and whether its
 * audit trail recorded the calls.
 */
import { request } from "undici";

export interface StageQuantiles {
  /** Microseconds. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly count: number;
}

const QUANTILE_KEYS: Readonly<Record<string, keyof Omit<StageQuantiles, "count">>> = { "0.5": "p50", "0.9": "p90", "0.99": "p99", "0.999": "p999" };

const SAMPLE = /^sentinel_stage_latency_seconds\{stage="([^"]+)",quantile="([^"]+)"\}\s+(\S+)$/;
const COUNT = /^sentinel_stage_latency_seconds_count\{stage="([^"]+)"\}\s+(\S+)$/;

export function parseStageLatencies(text: string): Record<string, StageQuantiles> {
  const stages = new Map<string, Record<string, number>>();
  const entry = (stage: string): Record<string, number> => {
    let e = stages.get(stage);
    if (e === undefined) stages.set(stage, (e = { p50: NaN, p90: NaN, p99: NaN, p999: NaN, count: 0 }));
    return e;
  };
  for (const line of text.split("\n")) {
    const sample = SAMPLE.exec(line);
    if (sample !== null) {
      const key = QUANTILE_KEYS[sample[2]!];
      if (key !== undefined) entry(sample[1]!)[key] = Math.round(Number(sample[3]) * 1e6 * 10) / 10;
      continue;
    }
    const count = COUNT.exec(line);
    if (count !== null) entry(count[1]!).count = Number(count[2]);
  }
  return Object.fromEntries([...stages].map(([stage, q]) => [stage, q as unknown as StageQuantiles]));
}

const AUDIT_WRITTEN = /^sentinel_audit_records_total\{stage="written"\}\s+(\S+)$/m;

/** Audit records written to the spool so far; undefined when the gateway has no audit trail. */
export function parseAuditWritten(text: string): number | undefined {
  const m = AUDIT_WRITTEN.exec(text);
  return m === null ? undefined : Number(m[1]);
}

export interface GatewayMetrics {
  readonly stages: Record<string, StageQuantiles>;
  readonly auditRecordsWritten?: number;
}

export async function scrapeMetrics(metricsUrl: string): Promise<GatewayMetrics> {
  const res = await request(metricsUrl);
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET ${metricsUrl} answered HTTP ${res.statusCode}`);
  const audit = parseAuditWritten(text);
  return { stages: parseStageLatencies(text), ...(audit === undefined ? {} : { auditRecordsWritten: audit }) };
}
