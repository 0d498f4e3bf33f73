/**
 * What a bench suite is: a named run that produces a JSON-serialisable result and a markdown
 * section. `bench/run.ts` picks suites by name (`--suites`), runs them in order and writes one
 * combined report.
 */
import type { BenchOptions } from "../lib/options.js";
import type { Plot } from "./comparison-plots.js";

export interface SuiteContext {
  readonly options: BenchOptions;
  /** Progress lines, to stderr, so stdout carries only the final report. */
  log(line: string): void;
}

export interface SuiteOutcome {
  /** Goes into latest.json under the suite's name. */
  readonly result: unknown;
  /** A markdown section (starting with a level-2 heading) for latest.md. */
  readonly markdown: string;
  /** SVG plots, written next to latest.md. */
  readonly plots?: readonly Plot[];
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  run(context: SuiteContext): Promise<SuiteOutcome>;
}
