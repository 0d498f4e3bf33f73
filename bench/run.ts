/**
 * `npm run bench`: runs the selected suites and writes bench/results/latest.json and
 * bench/results/latest.md; the markdown is also printed. Progress goes to stderr.
 *
 *   npm run bench -- --quick
 *   npm run bench -- --suites e2e --duration 10 --rate 2000 --concurrency 32
 *
 * See bench/README.md for what each number means.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { parseOptions, USAGE, UsageError, type BenchOptions } from "./lib/options.js";
import { REPO_ROOT } from "./lib/processes.js";
import { e2eSuite } from "./suites/e2e.js";
import type { Suite } from "./suites/suite.js";

/** In run order. Micro-benchmark suites join this list. */
const SUITES: readonly Suite[] = [e2eSuite];

async function main(): Promise<number> {
  let options: BenchOptions | "help";
  try {
    options = parseOptions(process.argv.slice(2), SUITES.map((s) => s.name));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(USAGE);
    return 0;
  }

  const started = new Date();
  const t0 = performance.now();
  const log = (line: string): void => {
    process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  };
  const environment = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };

  const results: Record<string, unknown> = {};
  const sections: string[] = [];
  for (const suite of SUITES.filter((s) => options.suites.includes(s.name))) {
    log(`suite ${suite.name}: ${suite.description}`);
    const outcome = await suite.run({ options, log });
    results[suite.name] = outcome.result;
    sections.push(outcome.markdown);
  }
  const elapsedSec = Math.round((performance.now() - t0) / 100) / 10;

  const report = {
    version: 1,
    startedAt: started.toISOString(),
    elapsedSec,
    environment,
    options: { ...options, outDir: relative(REPO_ROOT, options.outDir) },
    suites: results,
  };
  const markdown = [
    "# Sentinel bench results",
    "",
    `${started.toISOString()} · ${elapsedSec} s · Node ${environment.node} · ${environment.cpus} × ${environment.cpuModel} · ${environment.memoryMiB} MiB` +
      (options.quick ? " · quick mode" : ""),
    "",
    ...sections,
  ].join("\n");

  mkdirSync(options.outDir, { recursive: true });
  const jsonPath = join(options.outDir, "latest.json");
  const mdPath = join(options.outDir, "latest.md");
  writeFileSync(jsonPath, JSON.stringify(report, null, 2) + "\n");
  writeFileSync(mdPath, markdown);
  process.stdout.write(markdown);
  log(`wrote ${relative(REPO_ROOT, jsonPath)} and ${relative(REPO_ROOT, mdPath)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
