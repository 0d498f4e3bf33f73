/**
 * bench/RESULTS.md: the latest summary a run recorded (`npm run bench -- --record`) — when,
 * the exact command, the machine and how busy it was, every objective, one line per target,
 * the plots, the micro-benchmarks — followed by the hand-written analysis, which a new
 * recording keeps: everything below the ANALYSIS_MARKER line is carried over unchanged.
 */
import { existsSync, readFileSync } from "node:fs";
import { median, round } from "../lib/stats.js";
import type { ComparisonResult, Measurement } from "./comparison.js";
import type { Plot } from "./comparison-plots.js";
import { header, objectiveTable, row } from "./comparison-report.js";

export const ANALYSIS_MARKER = "<!-- Everything below this line is kept when the summary above is re-recorded. -->";

export interface RunFacts {
  readonly startedAt: string;
  readonly elapsedSec: number;
  readonly command: string;
  readonly environment: {
    readonly node: string;
    readonly platform: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryMiB: number;
    readonly loadAverageAtStart: readonly number[];
    readonly loadAverageAtEnd: readonly number[];
  };
}

export function renderSummary(
  facts: RunFacts,
  comparisons: ReadonlyArray<{ readonly suite: string; readonly result: ComparisonResult }>,
  plots: readonly Plot[],
  /** Where the plots were written, relative to bench/ (where RESULTS.md lives). */
  plotDir: string,
  microMarkdown: string | undefined,
  previous: string | undefined,
): string {
  const e = facts.environment;
  const measurements = comparisons.flatMap((c) => Object.values(c.result.modes).flatMap((m) => m?.measurements ?? []));
  const out = ["# Sentinel bench: latest recorded results", ""];
  out.push(`Recorded ${facts.startedAt} by \`${facts.command}\` (${facts.elapsedSec} s).`, "");
  out.push(`Machine: ${e.cpus} × ${e.cpuModel}, ${Math.round(e.memoryMiB / 1024)} GiB, ${e.platform}, Node ${e.node}.`, "");
  out.push(`Load average (1, 5, 15 min) at start: ${e.loadAverageAtStart.join(", ")}; at end: ${e.loadAverageAtEnd.join(", ")}. ${backgroundLine(measurements)}`, "");
  out.push(`Full tables: \`bench/${plotDir}/latest.md\`; every measurement with its HDR histogram: \`bench/${plotDir}/latest.json\`.`);

  const objectives = comparisons.flatMap((c) => c.result.objectives);
  if (objectives.length > 0) out.push("", "## Objectives (ratios measured in the same run)", "", ...objectiveTable(objectives));

  for (const { suite, result } of comparisons) {
    const open = result.modes.open;
    out.push("", `## ${result.title} (\`${suite}\`)`, "");
    out.push(
      ...header([
        "target",
        `added p50 µs (open, ${result.settings.rate}/s)`,
        "added p99 µs",
        "proxy CPU/call µs",
        "closed-loop req/s",
        `req/s within p99 ≤ ${result.settings.sloMs} ms`,
      ]),
    );
    for (const t of result.targets) {
      const added = open?.added[t.id];
      const sustained = result.sweep?.[t.id]?.sustainedRate;
      out.push(
        row([
          t.label,
          added === undefined ? "–" : String(Math.round(added.median.p50)),
          added === undefined ? "–" : String(Math.round(added.median.p99)),
          fmt(open?.targets[t.id]?.cpuPerCall.proxy),
          fmt(result.modes.closed?.targets[t.id]?.throughput),
          sustained === undefined ? "–" : sustained === null ? "none probed" : sustained.toLocaleString("en-US"),
        ]),
      );
    }
  }

  if (plots.length > 0) {
    out.push("", "## Plots", "");
    for (const p of plots) out.push(`![${p.caption}](${plotDir}/${p.file})`, "");
  }
  if (microMarkdown !== undefined) out.push("", microMarkdown.trimEnd());

  const analysis = previous?.includes(ANALYSIS_MARKER) === true ? previous.slice(previous.indexOf(ANALYSIS_MARKER) + ANALYSIS_MARKER.length).trim() : "## Analysis\n\n(none yet)";
  out.push("", ANALYSIS_MARKER, "", analysis);
  return out.join("\n") + "\n";
}

export const readPrevious = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, "utf8") : undefined);

const fmt = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? "–" : Math.round(n).toLocaleString("en-US"));

function backgroundLine(measurements: readonly Measurement[]): string {
  const shares = measurements.map((m) => (m.background === undefined ? NaN : m.background.otherShare + m.background.stealShare)).filter(Number.isFinite);
  if (shares.length === 0) return "Background load during measurements: not measured (no /proc/stat).";
  return `Other processes used a median ${round(100 * median(shares), 0)}% (at most ${round(100 * Math.max(...shares), 0)}%) of the machine during the ${shares.length} measurements.`;
}
