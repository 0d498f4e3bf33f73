/**
 * End-to-end suite: the latency Sentinel adds to an MCP tools/call, against a direct call to
 * the same upstream and against a bare pass-through proxy on the same stack, in one run. The
 * bare proxy is the floor any proxy on uWebSockets.js + undici pays for the extra hop; the
 * issue's objectives compare Sentinel with it. The measuring is comparison.ts's.
 */
import { startChild } from "../lib/processes.js";
import { BENCH_METADATA, BENCH_USER } from "../targets/sentinel-config.js";
import { addedRatio, DIRECT, PROFILE_DIR, runComparison, throughputShare, type ComparisonPlan, type ComparisonResult, type Objective, type TargetSpec } from "./comparison.js";
import { comparisonPlots } from "./comparison-plots.js";
import { renderComparisonMarkdown } from "./comparison-report.js";
import type { Suite } from "./suite.js";

/** What the echo upstream and the bare proxy announce when ready. */
export interface UpstreamInfo {
  readonly url: string;
}
/** What bench/targets/sentinel.ts announces when ready. */
export interface SentinelInfo {
  readonly url: string;
  readonly metricsUrl: string;
  readonly apiKey: string;
  readonly rules: number;
  readonly pipeline: string;
}

export const E2E_TARGETS: readonly TargetSpec[] = [
  { id: DIRECT, label: "direct", description: "the echo upstream itself, no proxy" },
  { id: "bare", label: "bare proxy", description: "uWebSockets.js front + undici Pool, forwards body and MCP headers, no parsing" },
  { id: "sentinel", label: "Sentinel", description: "the gateway: API key, session identity, policy, id remapping, forward" },
];

const e2ePlan: ComparisonPlan = {
  title: "End to end: latency added to an MCP tools/call",
  targets: E2E_TARGETS,
  openRate: (options) => options.rate,
  async start(options, pinning, log) {
    log("starting the echo upstream, the bare proxy and Sentinel");
    const upstream = await startChild<UpstreamInfo>("echo upstream", "bench/upstream/echo-server.ts", [], { cpus: pinning?.loadGeneratorAndUpstream });
    const nodeArgs = options.profile ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [];
    const [bare, sentinel] = await Promise.all([
      startChild<UpstreamInfo>("bare proxy", "bench/targets/bare-proxy.ts", ["--upstream", upstream.info.url], { cpus: pinning?.target, nodeArgs }),
      startChild<SentinelInfo>("Sentinel", "bench/targets/sentinel.ts", ["--upstream", upstream.info.url, "--rules", String(options.rules), "--pipeline", options.pipeline], {
        cpus: pinning?.target,
        readyTimeoutMs: 60_000,
        nodeArgs,
      }),
    ]);
    const upstreamCpuMicros = () => upstream.cpuMicros();
    return {
      targets: {
        [DIRECT]: { url: upstream.info.url, proxy: undefined, upstreamCpuMicros },
        bare: { url: bare.info.url, proxy: bare, upstreamCpuMicros },
        sentinel: { url: sentinel.info.url, proxy: sentinel, upstreamCpuMicros, metricsUrl: sentinel.info.metricsUrl },
      },
      headers: sentinelHeaders(sentinel.info.apiKey),
      processes: [upstream, bare, sentinel],
      facts: { rules: sentinel.info.rules, pipeline: sentinel.info.pipeline },
    };
  },
  objectives(result) {
    const out: Array<Objective | undefined> = [
      addedRatio(result, "sentinel", "bare", "p50", 1.5, "Sentinel added p50 ≤ 1.5× bare proxy's (open loop)"),
      addedRatio(result, "sentinel", "bare", "p99", 2, "Sentinel added p99 ≤ 2× bare proxy's (open loop)"),
      throughputShare(result, "sentinel", "bare", "closed", 0.7, "Sentinel throughput ≥ 70% of bare proxy's (closed loop, saturation)"),
      throughputShare(result, "sentinel", "bare", "sweep", 0.7, `Sentinel throughput ≥ 70% of bare proxy's (highest rate within p99 ≤ ${result.settings.sloMs} ms)`),
    ];
    return out.filter((o): o is Objective => o !== undefined);
  },
  notes(result) {
    return [pipelineNote(result.stages.sentinel), STAGE_NOTE];
  },
};

export const e2eSuite: Suite = {
  name: "e2e",
  description: "added latency of a proxied tools/call against a direct call; bare proxy floor; throughput",
  async run(context) {
    const result = await runComparison(e2ePlan, context);
    return { result, markdown: renderComparisonMarkdown(result, { sentinel: "sentinel", rules: Number(result.settings.facts.rules) }), plots: comparisonPlots("e2e", result) };
  },
};

/** The same headers go to every target; only Sentinel reads them. */
export function sentinelHeaders(apiKey: string): Record<string, string> {
  return { authorization: `Bearer ${apiKey}`, "x-sentinel-user": BENCH_USER, "x-sentinel-metadata": JSON.stringify(BENCH_METADATA) };
}

export const STAGE_NOTE =
  "Sentinel's stage timings come from its own HDR histograms, as engine/gateway/pipeline.ts times them: resolve = transport checks and the API key; guard (when the tenant has a Content Guard) = the JSON-RPC parse and session lookup, the scan and its enforcement; policy = rule evaluation; vault = credential admission; forward = upstream round trip, answer parsing, id remapping and handing the answer down; total = the whole pipeline. Without a guard, the parse and session lookup are in total but in no stage. Receiving the request in uWS before the pipeline starts is in none of them, and so is writing an answer the audit trail holds until its record is written.";

/**
 * What of Sentinel's pipeline these calls went through, read from what it reported, so the note
 * stays true as the pipeline changes: a stage that exists but recorded nothing did not run, and
 * audit is on when the gateway counted records written to its spool.
 */
export function pipelineNote(metrics: ComparisonResult["stages"][string] | undefined): string {
  const stages = metrics?.wholeRun ?? {};
  const ran = Object.entries(stages).filter(([, q]) => q.count > 0).map(([name]) => name).filter((name) => name !== "total");
  const idle = Object.entries(stages).filter(([, q]) => q.count === 0).map(([name]) => name);
  const missing: string[] = [];
  if (!ran.includes("guard")) missing.push(idle.includes("guard") ? "Content Guard (the stage exists but recorded no calls)" : "Content Guard (no guard stage)");
  if (!ran.includes("vault")) missing.push(idle.includes("vault") ? "credential injection (the vault stage exists but recorded no calls)" : "credential injection (no vault stage)");
  const audited = metrics?.auditRecordsWritten ?? 0;
  if (audited === 0) missing.push("audit (no records written)");
  return (
    `Sentinel's timed stages in this run: ${ran.join(", ") || "none"}` +
    (audited > 0 ? `; audit on (${audited.toLocaleString("en-US")} records written to the spool, each answer held until its record was written).` : ".") +
    (missing.length === 0 ? "" : ` Not in these numbers: ${missing.join("; ")}.`)
  );
}
