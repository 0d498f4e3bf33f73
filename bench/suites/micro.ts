/**
 * The `micro` suite: runs every bench/micro/*.bench.ts (tinybench) in a process of its own,
 * one after the other, and collects the `micro-<name>.json` each writes (micro/output.ts).
 * A bench that fails, or writes no result, is reported as such; the others still run.
 *
 * Micro-benchmarks time one component in a loop on one core, so their figures are absolute
 * times of this machine — useful to compare components and sizes with each other in one run,
 * not with other machines.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { MICRO_OUT_ENV, microResultPath, type MicroReport } from "../micro/output.js";
import { REPO_ROOT } from "../lib/processes.js";
import type { Suite } from "./suite.js";

const MICRO_DIR = join(REPO_ROOT, "bench/micro");
const TIMEOUT_MS = 10 * 60_000;

/** The issue's list of hot components, and the bench that measures each. */
const COVERAGE: ReadonlyArray<readonly [string, string]> = [
  ["policy compile and evaluate, 10 / 1,000 / 10,000 rules; pool against inline", "policy"],
  ["policy snapshot publish and read", "snapshot"],
  ["Content Guard scan by payload size", "guard"],
  ["token counting", "guard"],
  ["limit check", "limits"],
  ["vault decrypt and inject", "vault"],
  ["audit append", "audit"],
  ["JSON-RPC parse and forward path, SSE encode and parse", "wire"],
];

export interface MicroRun {
  readonly bench: string;
  readonly status: "ok" | "failed" | "no result";
  readonly seconds: number;
  readonly exitCode: number | null;
  readonly report?: MicroReport;
  /** When the bench wrote no result file: what it printed. */
  readonly stdout?: string;
}

export const microSuite: Suite = {
  name: "micro",
  description: "micro-benchmarks of the hot components (bench/micro/*.bench.ts), each in its own process",
  async run({ options, log }) {
    const files = readdirSync(MICRO_DIR).filter((f) => f.endsWith(".bench.ts")).sort();
    const runs: MicroRun[] = [];
    for (const file of files) {
      const bench = file.slice(0, -".bench.ts".length);
      log(`micro: ${file}${options.quick ? " --quick" : ""}`);
      const started = Date.now();
      const t0 = performance.now();
      const { code, stdout } = await runBench(join(MICRO_DIR, file), options.quick, options.outDir);
      const seconds = Math.round((performance.now() - t0) / 100) / 10;
      const report = freshReport(microResultPath(bench, options.outDir), started);
      const status = code !== 0 ? "failed" : report === undefined ? "no result" : "ok";
      runs.push({ bench, status, seconds, exitCode: code, ...(report === undefined ? { stdout } : { report }) });
      log(`micro: ${bench} ${status} in ${seconds} s`);
    }
    return { result: { runs, coverage: COVERAGE.map(([component, bench]) => ({ component, bench })) }, markdown: renderMicro(runs) };
  },
};

function runBench(path: string, quick: boolean, outDir: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", path, ...(quick ? ["--quick"] : [])], {
      cwd: REPO_ROOT,
      env: { ...process.env, [MICRO_OUT_ENV]: outDir },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      done({ code, stdout });
    });
  });
}

/** The bench's result file, if it was written during this run. */
function freshReport(path: string, since: number): MicroReport | undefined {
  try {
    if (statSync(path).mtimeMs < since - 1000) return undefined;
    const report = JSON.parse(readFileSync(path, "utf8")) as Partial<MicroReport>;
    return typeof report.markdown === "string" ? (report as MicroReport) : undefined;
  } catch {
    return undefined;
  }
}

function renderMicro(runs: readonly MicroRun[]): string {
  const out = ["## Micro-benchmarks", ""];
  out.push("One component at a time, in a loop, on one core (tinybench); each bench shares its case table with the component's tests where one exists. Absolute times of this machine: compare them with each other, not across machines.", "");
  out.push("| component | bench | status |", "| --- | --- | --- |");
  for (const [component, bench] of COVERAGE) {
    const run = runs.find((r) => r.bench === bench);
    out.push(`| ${component} | \`bench/micro/${bench}.bench.ts\` | ${run === undefined ? "pending (no bench yet)" : run.status === "ok" ? "ok" : `**${run.status}**`} |`);
  }
  for (const run of runs) {
    out.push("", `### ${run.bench} (${run.seconds} s${run.report?.quick === true ? ", quick" : ""})`, "");
    if (run.report !== undefined) out.push(run.report.markdown.trimEnd());
    else out.push(run.status === "failed" ? `Failed (exit code ${run.exitCode ?? "none"}); its output is on stderr of the run.` : "Wrote no result file; what it printed:", "", "```", (run.stdout ?? "").trimEnd(), "```");
  }
  return out.join("\n") + "\n";
}
