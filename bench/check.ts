/**
 * `npm run bench:check`: the bench's regression guard. It runs a fresh quick end-to-end run
 * (e2e and peers suites, 4 rounds, open and closed loop) and compares its **ratios** — Sentinel
 * against the bare proxy and against each peer, measured in the same run — with the committed
 * baseline, bench/baseline.json. Absolute times are never compared: on a shared machine they
 * move with whatever else runs, while a ratio of neighbouring measurements mostly does not.
 *
 * It fails (exit 1) when a ratio is more than 20% worse than its baseline in two runs in a row:
 * a short run's ratio can swing by 20% on its own, so a ratio that looks regressed triggers a
 * second run, and each ratio is judged by the better of the two. The p99 ratio is reported but
 * not enforced: over 2-second measurements it swings by more than any useful tolerance. The
 * baseline is the mean of two runs for the same reason. Not part of the default test run.
 *
 *   npm run bench:check                          fresh run(s), compare with bench/baseline.json
 *   npm run bench:check -- --update              two fresh runs, their mean written as the new baseline
 *   npm run bench:check -- --from FILE           compare an existing latest.json instead of running
 *   npm run bench:check -- --tolerance 0.3       allow 30% instead of 20%
 *   npm run bench:check -- -- --rate 2000        anything after a second -- goes to the run
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "./lib/processes.js";
import { median, round } from "./lib/stats.js";
import type { ComparisonResult } from "./suites/comparison.js";

const BASELINE = join(REPO_ROOT, "bench/baseline.json");
const CHECK_OUT = "bench/results/tmp/check";
/** The run the check makes, and the baseline must come from the same kind of run. */
const RUN_ARGS = ["--quick", "--suites", "e2e,peers", "--rounds", "4", "--modes", "open,closed"];

type Better = "lower" | "higher";

interface Ratio {
  readonly value: number;
  readonly better: Better;
  readonly description: string;
  /** Reported, never fails the check (too noisy over short measurements). */
  readonly watchOnly?: boolean;
}

interface Baseline {
  readonly recordedAt: string;
  readonly command: string;
  readonly machine: string;
  readonly ratios: Record<string, Ratio>;
}

interface Report {
  readonly startedAt: string;
  readonly command: string;
  readonly environment: { readonly cpus: number; readonly cpuModel: string; readonly node: string };
  readonly suites: { readonly e2e?: ComparisonResult; readonly peers?: ComparisonResult };
}

/** The ratios the guard watches, from one run's report. */
export function ratiosOf(report: Report): Record<string, Ratio> {
  const out: Record<string, Ratio> = {};
  const put = (name: string, value: number | undefined, better: Better, description: string, watchOnly = false): void => {
    if (value !== undefined && Number.isFinite(value)) out[name] = { value: round(value, 3), better, description, ...(watchOnly ? { watchOnly } : {}) };
  };
  const div = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined || b <= 0 ? undefined : a / b);
  const e2e = report.suites.e2e;
  if (e2e !== undefined) {
    const open = e2e.modes.open;
    const closed = e2e.modes.closed;
    put("e2e.addedP50", div(open?.added.sentinel?.median.p50, open?.added.bare?.median.p50), "lower", "Sentinel added p50 / bare proxy's (open loop)");
    put("e2e.addedP99", div(open?.added.sentinel?.median.p99, open?.added.bare?.median.p99), "lower", "Sentinel added p99 / bare proxy's (open loop; watched, not enforced)", true);
    put("e2e.throughput", div(closed?.targets.sentinel?.throughput, closed?.targets.bare?.throughput), "higher", "Sentinel throughput / bare proxy's (closed loop)");
    put("e2e.cpuPerCall", div(closed?.targets.sentinel?.cpuPerCall.proxy, closed?.targets.bare?.cpuPerCall.proxy), "lower", "Sentinel CPU per call / bare proxy's (closed loop)");
  }
  const peers = report.suites.peers;
  if (peers !== undefined) {
    const open = peers.modes.open;
    const closed = peers.modes.closed;
    for (const peer of peers.targets.map((t) => t.id).filter((id) => id !== "direct" && id !== "sentinel-stdio")) {
      put(`peers.addedP50.${peer}`, div(open?.added["sentinel-stdio"]?.median.p50, open?.added[peer]?.median.p50), "lower", `Sentinel (stdio) added p50 / ${peer}'s (open loop)`);
      put(`peers.cpuPerCall.${peer}`, div(closed?.targets["sentinel-stdio"]?.cpuPerCall.proxy, closed?.targets[peer]?.cpuPerCall.proxy), "lower", `Sentinel (stdio) CPU per call / ${peer}'s (closed loop)`);
    }
  }
  return out;
}

/** How much worse `fresh` is than `base`, as a fraction (0.25 = 25% worse; ≤ 0 = not worse). */
export const worsening = (fresh: number, base: number, better: Better): number => (better === "lower" ? fresh / base - 1 : 1 - fresh / base);

function backgroundShare(report: Report): number {
  const shares = Object.values(report.suites)
    .flatMap((s) => Object.values(s?.modes ?? {}).flatMap((m) => m?.measurements ?? []))
    .map((m) => (m.background === undefined ? NaN : m.background.otherShare + m.background.stealShare));
  return median(shares);
}

/** Runs the quick end-to-end run the check is made of; undefined when it failed. */
function freshRun(extra: readonly string[]): Report | undefined {
  const args = ["--import", "tsx", join(REPO_ROOT, "bench/run.ts"), ...RUN_ARGS, "--out", CHECK_OUT, ...extra];
  process.stderr.write(`bench:check: npm run bench -- ${[...RUN_ARGS, ...extra].join(" ")}\n`);
  // The run's markdown goes to stderr with its progress: this command's stdout is the verdict.
  const run = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", 2, "inherit"] });
  if (run.status !== 0) {
    process.stderr.write(`bench:check: the bench run failed (exit ${run.status ?? run.signal})\n`);
    return undefined;
  }
  return JSON.parse(readFileSync(join(REPO_ROOT, CHECK_OUT, "latest.json"), "utf8")) as Report;
}

/** Per ratio, the better of two runs' values (a regression must show in both). */
function better(a: Record<string, Ratio>, b: Record<string, Ratio>): Record<string, Ratio> {
  const out: Record<string, Ratio> = { ...b, ...a };
  for (const [name, r] of Object.entries(a)) {
    const other = b[name];
    if (other !== undefined) out[name] = { ...r, value: r.better === "lower" ? Math.min(r.value, other.value) : Math.max(r.value, other.value) };
  }
  return out;
}

/** Per ratio, the geometric mean of two runs' values. */
function mean(a: Record<string, Ratio>, b: Record<string, Ratio>): Record<string, Ratio> {
  const out: Record<string, Ratio> = {};
  for (const [name, r] of Object.entries(a)) {
    const other = b[name];
    out[name] = other === undefined ? r : { ...r, value: round(Math.sqrt(r.value * other.value), 3) };
  }
  return out;
}

function regressions(baseline: Baseline, fresh: Record<string, Ratio>, tolerance: number): string[] {
  return Object.entries(baseline.ratios)
    .filter(([name, base]) => base.watchOnly !== true && fresh[name] !== undefined && worsening(fresh[name].value, base.value, base.better) > tolerance)
    .map(([name]) => name);
}

function main(): number {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { update: { type: "boolean", default: false }, from: { type: "string" }, tolerance: { type: "string", default: "0.2" }, baseline: { type: "string" } },
  });
  const tolerance = Number(values.tolerance);
  if (!(tolerance > 0)) throw new Error(`--tolerance must be a positive fraction, not ${values.tolerance}`);
  const baselinePath = values.baseline === undefined ? BASELINE : resolve(values.baseline);

  const report = values.from !== undefined ? (JSON.parse(readFileSync(resolve(values.from), "utf8")) as Report) : freshRun(positionals);
  if (report === undefined) return 2;
  let fresh = ratiosOf(report);
  const backgrounds = [backgroundShare(report)];

  if (values.update) {
    if (values.from === undefined) {
      const second = freshRun(positionals);
      if (second === undefined) return 2;
      fresh = mean(fresh, ratiosOf(second));
      backgrounds.push(backgroundShare(second));
    }
    const baseline: Baseline = {
      recordedAt: report.startedAt,
      command: `${report.command}${values.from === undefined ? " (twice; the mean of the two)" : ""}`,
      machine: `${report.environment.cpus} × ${report.environment.cpuModel}, Node ${report.environment.node}; other processes used a median ${Math.round(Math.max(...backgrounds) * 100)}% of it`,
      ratios: fresh,
    };
    writeFileSync(baselinePath, JSON.stringify(baseline, null, 2) + "\n");
    process.stdout.write(`bench:check: wrote ${Object.keys(fresh).length} ratios to ${baselinePath}\n`);
    return 0;
  }

  const baseline = JSON.parse(readFileSync(baselinePath, "utf8")) as Baseline;
  let runs = 1;
  if (values.from === undefined && regressions(baseline, fresh, tolerance).length > 0) {
    process.stderr.write(`bench:check: ${regressions(baseline, fresh, tolerance).join(", ")} look regressed; confirming with a second run\n`);
    const second = freshRun(positionals);
    if (second === undefined) return 2;
    fresh = better(fresh, ratiosOf(second));
    backgrounds.push(backgroundShare(second));
    runs = 2;
  }
  const regressed = new Set(regressions(baseline, fresh, tolerance));
  const lines = ["| ratio | baseline | now | change | result |", "| --- | ---: | ---: | ---: | --- |"];
  for (const [name, base] of Object.entries(baseline.ratios)) {
    const now = fresh[name];
    if (now === undefined) {
      lines.push(`| ${base.description} | ${base.value} | – | – | not measured |`);
      continue;
    }
    const pct = Math.round(worsening(now.value, base.value, base.better) * 100);
    const change = pct === 0 ? "same" : `${Math.abs(pct)}% ${pct > 0 ? "worse" : "better"}`;
    const result = regressed.has(name) ? "**REGRESSION**" : base.watchOnly === true ? "watched" : "ok";
    lines.push(`| ${base.description} | ${base.value} | ${now.value} | ${change} | ${result} |`);
  }
  process.stdout.write(lines.join("\n") + "\n\n");
  process.stdout.write(
    `Baseline: ${baseline.recordedAt} (${baseline.machine}). Tolerance ${Math.round(tolerance * 100)}% (lower-is-better ratios may grow, higher-is-better ones shrink, by that much)` +
      (runs === 2 ? "; two runs, each ratio judged by the better of them.\n" : ".\n"),
  );
  if (Math.max(...backgrounds) > 0.05) {
    process.stdout.write(`Warning: other processes used a median ${Math.round(Math.max(...backgrounds) * 100)}% of the machine during a run; ratios are less trustworthy. Re-run on a quiet machine before acting on a regression.\n`);
  }
  process.stdout.write(regressed.size === 0 ? "bench:check: no ratio regressed.\n" : `bench:check: ${regressed.size} ratio(s) regressed by more than ${Math.round(tolerance * 100)}%.\n`);
  return regressed.size === 0 ? 0 : 1;
}

process.exit(main());
