/**
 * `npm run bench`: runs the selected suites and writes bench/results/latest.json,
 * bench/results/latest.md and the suites' SVG plots; the markdown is also printed. Progress
 * goes to stderr. With --record it also rewrites the summary part of bench/RESULTS.md.
 *
 *   npm run bench -- --quick
 *   npm run bench -- --suites e2e --duration 10 --rate 2000 --concurrency 32
 *
 * See bench/README.md for what each number means.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { parseOptions, USAGE, UsageError, type BenchOptions } from "./lib/options.js";
import { REPO_ROOT } from "./lib/processes.js";
import type { ComparisonResult } from "./suites/comparison.js";
import type { Plot } from "./suites/comparison-plots.js";
import { e2eSuite } from "./suites/e2e.js";
import { microSuite } from "./suites/micro.js";
import { peersSuite } from "./suites/peers.js";
import type { Suite } from "./suites/suite.js";
import { readPrevious, renderSummary } from "./suites/summary.js";

/** In run order. */
const SUITES: readonly Suite[] = [e2eSuite, peersSuite, microSuite];

const RESULTS_FILE = join(REPO_ROOT, "bench/RESULTS.md");

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
  const plots: Plot[] = [];
  for (const suite of SUITES.filter((s) => options.suites.includes(s.name))) {
    log(`suite ${suite.name}: ${suite.description}`);
    const outcome = await suite.run({ options, log });
    results[suite.name] = outcome.result;
    sections.push(outcome.markdown);
    plots.push(...(outcome.plots ?? []));
  }
  const elapsedSec = Math.round((performance.now() - t0) / 100) / 10;
  const environmentAtEnd = { ...environment, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) };
  const command = ["npm run bench", ...(options.argv.length > 0 ? ["--", ...options.argv] : [])].join(" ");

  const report = {
    version: 1,
    startedAt: started.toISOString(),
    elapsedSec,
    command,
    environment: environmentAtEnd,
    options: { ...options, outDir: relative(REPO_ROOT, options.outDir) },
    suites: results,
  };
  const markdown = [
    "# Sentinel bench results",
    "",
    `${started.toISOString()} · ${elapsedSec} s · Node ${environment.node} · ${environment.cpus} × ${environment.cpuModel} · ${environment.memoryMiB} MiB` +
      (options.quick ? " · quick mode" : ""),
    "",
    `\`${command}\` · load average at start ${environment.loadAverageAtStart.join(", ")}, at end ${environmentAtEnd.loadAverageAtEnd.join(", ")}`,
    "",
    ...sections,
    ...(plots.length === 0 ? [] : ["## Plots", "", ...plots.flatMap((p) => [`![${p.caption}](${p.file})`, ""])]),
  ].join("\n");

  mkdirSync(options.outDir, { recursive: true });
  for (const plot of plots) writeFileSync(join(options.outDir, plot.file), plot.svg);
  const jsonPath = join(options.outDir, "latest.json");
  const mdPath = join(options.outDir, "latest.md");
  writeFileSync(jsonPath, JSON.stringify(report, null, 2) + "\n");
  writeFileSync(mdPath, markdown);
  process.stdout.write(markdown);
  log(`wrote ${relative(REPO_ROOT, jsonPath)}, ${relative(REPO_ROOT, mdPath)}${plots.length === 0 ? "" : ` and ${plots.length} plots`}`);
  if (options.record) {
    const comparisons = (["e2e", "peers"] as const).filter((name) => results[name] !== undefined).map((suite) => ({ suite, result: results[suite] as ComparisonResult }));
    const facts = { startedAt: started.toISOString(), elapsedSec, command, environment: environmentAtEnd };
    const plotDir = relative(dirname(RESULTS_FILE), options.outDir);
    const summary = renderSummary(facts, comparisons, plots, plotDir, sections.find((s) => s.startsWith("## Micro")), readPrevious(RESULTS_FILE));
    writeFileSync(RESULTS_FILE, summary);
    log(`recorded ${relative(REPO_ROOT, RESULTS_FILE)}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
