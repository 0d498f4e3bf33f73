/**
 * Command-line options of `npm run bench`. Quick mode only changes defaults: any option given
 * explicitly still wins, so `--quick --rounds 5` is quick in every other respect.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "./processes.js";

export type LoadMode = "open" | "closed" | "sweep";
export const LOAD_MODES: readonly LoadMode[] = ["open", "closed", "sweep"];

export interface BenchOptions {
  readonly suites: readonly string[];
  readonly quick: boolean;
  /** Seconds measured per target, mode and round. */
  readonly durationSec: number;
  /** Seconds of load before each measurement, not recorded. */
  readonly warmupSec: number;
  /** Each mode visits every target this many times, in rotating order; the report gives medians. */
  readonly rounds: number;
  /**
   * Measurements that may be repeated, over the whole run, because other processes took more
   * than a few percent of the machine meanwhile; the least disturbed attempt is kept.
   */
  readonly retries: number;
  /** Open loop: requests per second. */
  readonly rate: number;
  /** Open loop in the peers suite: requests per second, low enough for every peer to keep up. */
  readonly peersRate: number;
  /** Closed loop: concurrent workers (and MCP sessions per target, in both modes). */
  readonly concurrency: number;
  readonly modes: readonly LoadMode[];
  /** Rate sweep: the p99 objective, milliseconds. */
  readonly sloMs: number;
  /** Rate sweep: probes per target. */
  readonly sweepSteps: number;
  /** Rate sweep: measured seconds per probe. */
  readonly sweepDurationSec: number;
  /** Sentinel's policy size. */
  readonly rules: number;
  /** What of Sentinel's pipeline runs (targets/sentinel-config.ts). */
  readonly pipeline: "full" | "policy";
  /** Size of the echoed argument string. */
  readonly payloadBytes: number;
  /** Give the target under test its own CPU (taskset), apart from the load generator and upstream. */
  readonly pin: boolean;
  /** Write V8 CPU profiles of the proxies under test to bench/results/tmp/profiles (git-ignored). */
  readonly profile: boolean;
  readonly outDir: string;
  /** Also write bench/RESULTS.md (summary, machine, command), keeping its analysis section. */
  readonly record: boolean;
  /** The arguments as given, for the "exact command" line of the report. */
  readonly argv: readonly string[];
}

export const USAGE = `usage: npm run bench -- [options]

  --suites LIST        comma-separated suites to run (available: e2e, peers, micro; default: all)
  --quick              short run, under two minutes in all (1 round of 2 s, 0.5 s warm-up, 3 sweep probes of 1 s)
  --duration SECONDS   measured seconds per target, mode and round (default 10; quick 2)
  --warmup SECONDS     unrecorded load before each measurement (default 2; quick 0.5)
  --rounds N           rounds per mode, targets in rotating order; medians are reported (default 5; quick 1)
  --retries N          repeat up to N measurements in all (2 at most each) that other processes disturbed (default 15; quick 0)
  --rate N             open-loop requests per second (default 1000)
  --peers-rate N       open-loop requests per second in the peers suite (default 250: the peers saturate near 1,000)
  --concurrency N      closed-loop workers, and MCP sessions per target (default 16)
  --modes LIST         open,closed,sweep (default all three)
  --slo MS             rate sweep: the p99 latency objective in milliseconds (default 10)
  --sweep-steps N      rate sweep: probes per target, bisecting up to 1.25 x its closed-loop throughput (default 6; quick 3)
  --sweep-duration S   rate sweep: measured seconds per probe (default 3; quick 1)
  --rules N            Sentinel policy size (default 1000)
  --pipeline NAME      full: policy + Content Guard + credential injection + audit (default); policy: policy only
  --payload BYTES      size of the echoed argument, prose from the Content Guard test corpus (default 1024)
  --pin                run the target under test on its own CPU (taskset), load generator and upstream on the others
  --profile            write V8 CPU profiles of the proxies to bench/results/tmp/profiles (slows them a little)
  --out DIR            where the results and plots go (default bench/results; quick runs bench/results/tmp/quick,
                       profiled runs bench/results/tmp/profiled)
  --record             also write bench/RESULTS.md from this run (its analysis section is kept)
  -h, --help           this text
`;

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function parseOptions(argv: readonly string[], knownSuites: readonly string[]): BenchOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        suites: { type: "string" },
        quick: { type: "boolean", default: false },
        duration: { type: "string" },
        warmup: { type: "string" },
        rounds: { type: "string" },
        retries: { type: "string" },
        rate: { type: "string" },
        "peers-rate": { type: "string" },
        concurrency: { type: "string" },
        modes: { type: "string" },
        slo: { type: "string" },
        "sweep-steps": { type: "string" },
        "sweep-duration": { type: "string" },
        record: { type: "boolean", default: false },
        rules: { type: "string" },
        pipeline: { type: "string" },
        payload: { type: "string" },
        pin: { type: "boolean", default: false },
        profile: { type: "boolean", default: false },
        out: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help === true) return "help";
  const quick = v.quick === true;

  const suites = list(v.suites, knownSuites);
  for (const s of suites) if (!knownSuites.includes(s)) throw new UsageError(`unknown suite "${s}" (available: ${knownSuites.join(", ")})`);
  const modes = list(v.modes, LOAD_MODES);
  for (const m of modes) if (!(LOAD_MODES as readonly string[]).includes(m)) throw new UsageError(`unknown mode "${m}" (${LOAD_MODES.join(", ")})`);

  return {
    suites,
    quick,
    durationSec: number("duration", v.duration, quick ? 2 : 10, 0.5),
    warmupSec: number("warmup", v.warmup, quick ? 0.5 : 2, 0),
    rounds: integer("rounds", v.rounds, quick ? 1 : 5, 1),
    retries: integer("retries", v.retries, quick ? 0 : 15, 0),
    rate: number("rate", v.rate, 1000, 1),
    peersRate: number("peers-rate", v["peers-rate"], 250, 1),
    concurrency: integer("concurrency", v.concurrency, 16, 1),
    modes: LOAD_MODES.filter((m) => modes.includes(m)),
    sloMs: number("slo", v.slo, 10, 0.001),
    sweepSteps: integer("sweep-steps", v["sweep-steps"], quick ? 3 : 6, 1),
    sweepDurationSec: number("sweep-duration", v["sweep-duration"], quick ? 1 : 3, 0.2),
    rules: integer("rules", v.rules, 1000, 1),
    pipeline: pipelineOf(v.pipeline),
    payloadBytes: integer("payload", v.payload, 1024, 0),
    pin: v.pin === true,
    profile: v.profile === true,
    // The committed results come from full runs: quick and profiled runs (whose numbers are not
    // comparable) write under the git-ignored tmp/ unless told otherwise.
    outDir: resolve(REPO_ROOT, v.out ?? (v.profile === true ? "bench/results/tmp/profiled" : quick ? "bench/results/tmp/quick" : "bench/results")),
    record: v.record === true,
    argv: [...argv],
  };
}

function pipelineOf(value: string | undefined): BenchOptions["pipeline"] {
  if (value === undefined || value === "full" || value === "policy") return value ?? "full";
  throw new UsageError(`--pipeline must be full or policy, not "${value}"`);
}

function list(value: string | undefined, fallback: readonly string[]): string[] {
  if (value === undefined) return [...fallback];
  const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) throw new UsageError("an empty list was given");
  return items;
}

function number(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number of at least ${min}, not "${value}"`);
  return n;
}

function integer(name: string, value: string | undefined, fallback: number, min: number): number {
  const n = number(name, value, fallback, min);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, not "${value}"`);
  return n;
}
