/**
 * How a micro-benchmark hands over its results: it prints its markdown tables to stdout and
 * writes `micro-<name>.json` — its own data plus the markdown, in one envelope — to
 * bench/results (or to the directory in SENTINEL_BENCH_OUT, which `npm run bench` sets to its
 * `--out`). The `micro` suite of `npm run bench` runs every bench/micro/*.bench.ts and collects
 * these files; each bench also runs on its own.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface MicroReport {
  readonly bench: string;
  readonly quick: boolean;
  readonly at: string;
  readonly node: string;
  /** The bench's tables, as printed. */
  readonly markdown: string;
  /** Whatever the bench measured, in its own shape. */
  readonly data: unknown;
}

export const MICRO_OUT_ENV = "SENTINEL_BENCH_OUT";

export function microResultPath(bench: string, dir = process.env[MICRO_OUT_ENV]): string {
  return join(dir ?? resolve(fileURLToPath(new URL("../results/", import.meta.url))), `micro-${bench}.json`);
}

export function writeMicroResult(bench: string, data: unknown, markdown: string): void {
  process.stdout.write(markdown.endsWith("\n") ? markdown : markdown + "\n");
  const report: MicroReport = { bench, quick: process.argv.includes("--quick"), at: new Date().toISOString(), node: process.version, markdown, data };
  const path = microResultPath(bench);
  mkdirSync(resolve(path, ".."), { recursive: true });
  writeFileSync(path, JSON.stringify(report, null, 2) + "\n");
}

/** A markdown table from rows of the same keys (what console.table would print). */
export function markdownTable(rows: ReadonlyArray<Readonly<Record<string, string | number>>>): string {
  const keys = Object.keys(rows[0] ?? {});
  const line = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
  return [line(keys), line(keys.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map((r) => line(keys.map((k) => String(r[k]))))].join("\n");
}
