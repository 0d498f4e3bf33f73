/**
 * The markdown section of an end-to-end suite (e2e, peers). All latencies are in microseconds.
 */
import { cpus } from "node:os";
import type { StageQuantiles } from "../lib/prometheus.js";
import { PERCENTILE_LABEL, PERCENTILES } from "../load/histogram.js";
import type { ComparisonResult, ModeResult, Objective } from "./comparison.js";

const us = (n: number | undefined | null): string => (n === undefined || n === null || !Number.isFinite(n) ? "–" : String(Math.round(n)));
const perSecond = (n: number | undefined | null): string => (n === undefined || n === null || !Number.isFinite(n) ? "–" : Math.round(n).toLocaleString("en-US"));
export const row = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
export const header = (cells: readonly string[]): string[] => [row(cells), row(cells.map((_, i) => (i === 0 ? "---" : "---:")))];

export interface ReportFocus {
  /** The Sentinel target whose stage histograms are shown. */
  readonly sentinel: string;
  readonly rules: number;
}

export function renderComparisonMarkdown(r: ComparisonResult, focus: ReportFocus): string {
  const s = r.settings;
  const label = (id: string): string => r.targets.find((t) => t.id === id)?.label ?? id;
  const out: string[] = [];
  out.push(`## ${r.title}`, "");
  out.push(
    `${s.rounds} round(s) per mode, ${s.durationSec} s measured after ${s.warmupSec} s warm-up per target and round; ` +
      `open loop at ${s.rate} req/s, closed loop with ${s.concurrency} workers; ${s.sessionsPerTarget} MCP sessions per target; ` +
      `Sentinel policy of ${focus.rules} rules; ${s.payloadBytes}-byte echo argument; ` +
      (s.pinned === null ? `${cpus().length} CPUs, unpinned.` : `target on CPU ${s.pinned.target}, load generator and upstream on CPU ${s.pinned.loadGeneratorAndUpstream}.`),
  );
  out.push("");
  out.push("Targets: " + r.targets.map((t) => `**${t.label}** — ${t.description}`).join("; ") + ".");

  const open = r.modes.open;
  if (open !== undefined) {
    out.push("", `### Added latency (target − direct), open loop at ${s.rate} req/s, µs`, "");
    out.push("Median over rounds of the per-round difference, percentile to percentile; coordinated-omission corrected. In brackets: smallest and largest round.", "");
    out.push(...header(["target", ...PERCENTILES.map((p) => PERCENTILE_LABEL[p])]));
    for (const [id, added] of Object.entries(open.added)) {
      out.push(row([label(id), ...PERCENTILES.map((p) => `${us(added.median[p])} (${us(added.range[p].min)}…${us(added.range[p].max)})`)]));
    }
    out.push("", "The same, measured from the actual send instead of the intended one (no correction):", "");
    out.push(...header(["target", ...PERCENTILES.map((p) => PERCENTILE_LABEL[p])]));
    for (const [id, added] of Object.entries(open.added)) out.push(row([label(id), ...PERCENTILES.map((p) => us(added.serviceMedian?.[p]))]));
    out.push("", "Comparable published figures (LANDSCAPE.md, *added end-to-end latency against a direct call*): mcp-proxy (Rust) ~50 µs at p50; Envoy AI Gateway 0.391 − 0.107 ≈ 284 µs. Different machines; only ratios measured in the same run are like for like.");
    out.push("", `### Per target, open loop at ${s.rate} req/s, µs`, "");
    out.push(...header(["target", ...PERCENTILES.map((p) => PERCENTILE_LABEL[p]), "p50 from actual send", "send lateness p50", "proxy CPU/call", "upstream CPU/call", "errors"]));
    for (const [id, t] of Object.entries(open.targets)) {
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
    for (const [id, t] of Object.entries(closed.targets)) {
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

  if (r.sweep !== undefined) {
    out.push("", `### Highest rate sustained within p99 ≤ ${s.sloMs} ms (open-loop rate sweep)`, "");
    out.push(
      `Bisection between 0 and 1.25 × each target's closed-loop throughput, ${s.sweepSteps} probes of ${s.sweepDurationSec} s; a probe passes when p99 (corrected) ≤ ${s.sloMs} ms, nothing failed or was dropped, and ≥ 95% of the offered rate was answered.`,
      "",
    );
    out.push(...header(["target", "sustained req/s", "first miss req/s", "p50 µs at sustained", "p99 µs at sustained", "probes (req/s: p99 µs)"]));
    for (const [id, sw] of Object.entries(r.sweep)) {
      const best = sw.steps.find((st) => st.pass && st.rate === sw.sustainedRate);
      out.push(
        row([
          label(id),
          sw.sustainedRate === null ? `< ${perSecond(Math.min(...sw.steps.map((st) => st.rate)))}` : perSecond(sw.sustainedRate),
          sw.failedRate === null ? `none ≤ ${perSecond(sw.ceiling)}` : perSecond(sw.failedRate),
          us(best?.latency.p50),
          us(best?.latency.p99),
          sw.steps.map((st) => `${perSecond(st.rate)}: ${us(st.latency.p99)}${st.pass ? "" : " ✗"}`).join(", "),
        ]),
      );
    }
  }

  if (r.objectives.length > 0) {
    out.push("", "### Objectives", "");
    out.push(...objectiveTable(r.objectives));
  }

  const stages = r.stages[focus.sentinel];
  if (stages !== undefined) {
    out.push("", `### Where ${label(focus.sentinel)}'s time goes (its own stage histograms, µs)`, "");
    if (stages.afterOpenLoop !== undefined) {
      out.push(`Open-loop phase (session setup, warm-ups and open-loop traffic at ${s.rate} req/s):`, "");
      out.push(...stageTable(stages.afterOpenLoop));
      const composition = composeP50(open, focus, stages.afterOpenLoop);
      if (composition.length > 0) {
        out.push("", "Approximate composition of the p50 (open loop, from the actual send; percentiles do not add exactly):", "");
        out.push(...header(["part", "µs"]));
        for (const [part, value] of composition) out.push(row([part, us(value)]));
      }
      out.push("");
    }
    if (stages.wholeRun !== undefined) {
      out.push("Whole run (closed-loop saturation and sweep included, where forward time is mostly queueing):", "");
      out.push(...stageTable(stages.wholeRun));
    }
  }

  out.push("", "### Notes", "");
  for (const n of r.notes) out.push(`- ${n}`);
  return out.join("\n") + "\n";
}

export function objectiveTable(objectives: readonly Objective[]): string[] {
  const lines = header(["objective", "measured", "limit", "result"]);
  const value = (v: number, unit: Objective["unit"]): string => (!Number.isFinite(v) ? "–" : unit === "×" ? `${v} ×` : `${Math.round(v * 100)}%`);
  for (const o of objectives) {
    lines.push(row([o.name, value(o.value, o.unit), value(Math.round(o.limit * 100) / 100, o.unit), o.pass === null ? "undecided (reference lost in noise)" : o.pass ? "pass" : "**FAIL**"]));
  }
  return lines;
}

function stageTable(stages: Record<string, StageQuantiles>): string[] {
  const lines = header(["stage", ...PERCENTILES.map((p) => PERCENTILE_LABEL[p]), "count"]);
  for (const [stage, q] of Object.entries(stages)) lines.push(row([stage, ...PERCENTILES.map((p) => us(q[p])), String(q.count)]));
  return lines;
}

/** Splits Sentinel's end-to-end p50 into the stages it timed and what lies outside them. */
function composeP50(open: ModeResult | undefined, focus: ReportFocus, stages: Record<string, StageQuantiles>): Array<[string, number]> {
  const sentinel = open?.targets[focus.sentinel]?.service?.p50;
  const direct = open?.targets.direct?.service?.p50;
  const total = stages.total?.p50;
  const forward = stages.forward?.p50;
  if (sentinel === undefined || direct === undefined || total === undefined || forward === undefined) return [];
  const timed = Object.entries(stages).filter(([name, q]) => name !== "total" && name !== "forward" && q.count > 0);
  return [
    ["end to end through Sentinel", sentinel],
    ["outside the stages: client→gateway hop, uWS receive and body copy, an answer held for its audit record", sentinel - total],
    ...timed.map(([name, q]): [string, number] => [name === "policy" ? `policy (${focus.rules.toLocaleString("en-US")} rules)` : name, q.p50]),
    ["forward: upstream round trip (≈ direct call over HTTP)", direct],
    ["forward: the gateway's own share (id remap, answer parse, write; the stdio hop for a stdio upstream)", forward - direct],
  ];
}
