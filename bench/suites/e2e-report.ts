/**
 * The markdown section of the end-to-end suite. All latencies are in microseconds.
 */
import { cpus } from "node:os";
import type { StageQuantiles } from "../lib/prometheus.js";
import { PERCENTILE_LABEL, PERCENTILES } from "../load/histogram.js";
import type { E2eResult, ModeResult, TargetId } from "./e2e.js";

const us = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? "–" : String(Math.round(n)));
const perSecond = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? "–" : Math.round(n).toLocaleString("en-US"));
const row = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
const header = (cells: readonly string[]): string[] => [row(cells), row(cells.map((_, i) => (i === 0 ? "---" : "---:")))];

export function renderE2eMarkdown(r: E2eResult): string {
  const s = r.settings;
  const label = (id: TargetId): string => r.targets.find((t) => t.id === id)?.label ?? id;
  const out: string[] = [];
  out.push("## End to end: latency added to an MCP tools/call");
  out.push("");
  out.push(
    `${s.rounds} round(s) per mode, ${s.durationSec} s measured after ${s.warmupSec} s warm-up per target and round; ` +
      `open loop at ${s.rate} req/s, closed loop with ${s.concurrency} workers; ${s.sessionsPerTarget} MCP sessions per target; ` +
      `Sentinel policy of ${s.rules} rules; ${s.payloadBytes}-byte echo argument; ` +
      (s.pinned === null ? `${cpus().length} CPUs, unpinned.` : `target on CPU ${s.pinned.target}, load generator and upstream on CPU ${s.pinned.loadGeneratorAndUpstream}.`),
  );
  out.push("");
  out.push("Targets: " + r.targets.map((t) => `**${t.label}** — ${t.description}`).join("; ") + ".");

  const open = r.modes.open;
  if (open !== undefined) {
    out.push("", `### Added latency (target − direct), open loop at ${s.rate} req/s, µs`, "");
    out.push("Median over rounds of the per-round difference, percentile to percentile; coordinated-omission corrected. In brackets: smallest and largest round.", "");
    out.push(...header(["target", ...PERCENTILES.map((p) => PERCENTILE_LABEL[p])]));
    for (const [id, added] of entries(open.added)) {
      out.push(row([label(id), ...PERCENTILES.map((p) => `${us(added.median[p])} (${us(added.range[p].min)}…${us(added.range[p].max)})`)]));
    }
    out.push("", "The same, measured from the actual send instead of the intended one (no correction):", "");
    out.push(...header(["target", ...PERCENTILES.map((p) => PERCENTILE_LABEL[p])]));
    for (const [id, added] of entries(open.added)) out.push(row([label(id), ...PERCENTILES.map((p) => us(added.serviceMedian?.[p]))]));
    out.push("", "Comparable peer figures (LANDSCAPE.md, *added end-to-end latency against a direct call*): mcp-proxy (Rust) ~50 µs at p50; Envoy AI Gateway 0.391 − 0.107 ≈ 284 µs. Different machines; only the ratio to our own bare proxy is like for like.");
    out.push("", `### Per target, open loop at ${s.rate} req/s, µs`, "");
    out.push(...header(["target", ...PERCENTILES.map((p) => PERCENTILE_LABEL[p]), "p50 from actual send", "send lateness p50", "proxy CPU/call", "upstream CPU/call", "errors"]));
    for (const [id, t] of entries(open.targets)) {
      out.push(
        row([
          label(id),
          ...PERCENTILES.map((p) => us(t.latency[p])),
          us(t.service?.p50),
          us(t.latenessP50),
          us(t.cpuPerCall.proxy),
          us(t.cpuPerCall.upstream),
          String(t.errors + t.dropped),
        ]),
      );
    }
  }

  const closed = r.modes.closed;
  if (closed !== undefined) {
    const direct = closed.targets.direct?.throughput;
    out.push("", `### Closed loop, ${s.concurrency} workers: throughput and latency under saturation`, "");
    out.push(...header(["target", "req/s", "of direct", "p50 µs", "p99 µs", "added p50 µs", "added p99 µs", "proxy CPU/call µs", "errors"]));
    for (const [id, t] of entries(closed.targets)) {
      const added = closed.added[id];
      out.push(
        row([
          label(id),
          perSecond(t.throughput),
          direct === undefined ? "–" : `${Math.round((100 * t.throughput) / direct)}%`,
          us(t.latency.p50),
          us(t.latency.p99),
          us(added?.median.p50),
          us(added?.median.p99),
          us(t.cpuPerCall.proxy),
          String(t.errors),
        ]),
      );
    }
  }

  if (r.objectives.length > 0) {
    out.push("", "### Objectives (Sentinel against the bare proxy)", "");
    out.push(...header(["objective", "measured", "limit", "result"]));
    for (const o of r.objectives) out.push(row([o.name, `${o.value} ${o.unit}`, `${o.limit} ${o.unit}`, o.pass === null ? "undecided (baseline lost in noise)" : o.pass ? "pass" : "**FAIL**"]));
  }

  const stages = r.sentinelStages;
  if (stages.afterOpenLoop !== undefined || stages.wholeRun !== undefined) {
    out.push("", "### Where Sentinel's time goes (its own stage histograms, µs)", "");
    if (stages.afterOpenLoop !== undefined) {
      out.push(`Open-loop phase (session setup, warm-ups and open-loop traffic at ${s.rate} req/s):`, "");
      out.push(...stageTable(stages.afterOpenLoop));
      const composition = composeP50(open, stages.afterOpenLoop, s.rules);
      if (composition.length > 0) {
        out.push("", "Approximate composition of Sentinel's p50 (open loop, from the actual send; percentiles do not add exactly):", "");
        out.push(...header(["part", "µs"]));
        for (const [part, value] of composition) out.push(row([part, us(value)]));
      }
      out.push("");
    }
    if (stages.wholeRun !== undefined) {
      out.push("Whole run (closed-loop saturation included, where forward time is mostly queueing):", "");
      out.push(...stageTable(stages.wholeRun));
    }
  }

  out.push("", "### Notes", "");
  for (const n of r.notes) out.push(`- ${n}`);
  return out.join("\n") + "\n";
}

function stageTable(stages: Record<string, StageQuantiles>): string[] {
  const lines = header(["stage", ...PERCENTILES.map((p) => PERCENTILE_LABEL[p]), "count"]);
  for (const [stage, q] of Object.entries(stages)) lines.push(row([stage, ...PERCENTILES.map((p) => us(q[p])), String(q.count)]));
  return lines;
}

/** Splits Sentinel's end-to-end p50 into the stages it timed and what lies outside them. */
function composeP50(open: ModeResult | undefined, stages: Record<string, StageQuantiles>, rules: number): Array<[string, number]> {
  const sentinel = open?.targets.sentinel?.service?.p50;
  const direct = open?.targets.direct?.service?.p50;
  const total = stages.total?.p50;
  const forward = stages.forward?.p50;
  if (sentinel === undefined || direct === undefined || total === undefined || forward === undefined) return [];
  return [
    ["end to end through Sentinel", sentinel],
    ["outside the stages: client→gateway hop, uWS receive and body copy", sentinel - total],
    ["resolve (transport checks, API key)", stages.resolve?.p50 ?? NaN],
    [`policy (parse, session, identity, ${rules.toLocaleString("en-US")} rules)`, stages.policy?.p50 ?? NaN],
    ["forward: upstream round trip (≈ direct call)", direct],
    ["forward: the gateway's own share (id remap, answer parse, write)", forward - direct],
  ];
}

function entries<V>(record: Partial<Record<TargetId, V>>): Array<[TargetId, V]> {
  return Object.entries(record).filter((e): e is [TargetId, V] => e[1] !== undefined) as Array<[TargetId, V]>;
}
