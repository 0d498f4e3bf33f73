/**
 * Command-line options of `npm run bench`. Quick mode only changes defaults: any option given
 * explicitly still wins, so `--quick --rounds 5` is quick in every other respect.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "./processes.js";

export type LoadMode = "open" | "closed";

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
  /** Closed loop: concurrent workers (and MCP sessions per target, in both modes). */
  readonly concurrency: number;
  readonly modes: readonly LoadMode[];
  /** Sentinel's policy size. */
  readonly rules: number;
  /** Size of the echoed argument string. */
  readonly payloadBytes: number;
  /** Give the target under test its own CPU (taskset), apart from the load generator and upstream. */
  readonly pin: boolean;
  /** Write V8 CPU profiles of the proxies under test to bench/results/tmp/profiles (git-ignored). */
  readonly profile: boolean;
  readonly outDir: string;
}

export const USAGE = `usage: npm run bench -- [options]

  --suites LIST        comma-separated suites to run (available: e2e; default: all)
  --quick              short run, under two minutes (3 rounds of 3 s, 1 s warm-up)
  --duration SECONDS   measured seconds per target, mode and round (default 10; quick 3)
  --warmup SECONDS     unrecorded load before each measurement (default 2; quick 1)
  --rounds N           rounds per mode, targets in rotating order; medians are reported (default 5; quick 3)
  --retries N          repeat up to N measurements in all (2 at most each) that other processes disturbed (default 15; quick 4)
  --rate N             open-loop requests per second (default 1000)
  --concurrency N      closed-loop workers, and MCP sessions per target (default 16)
  --modes LIST         open,closed (default both)
  --rules N            Sentinel policy size (default 1000)
  --payload BYTES      size of the echoed argument (default 64)
  --pin                run the target under test on its own CPU (taskset), load generator and upstream on the others
  --profile            write V8 CPU profiles of the proxies to bench/results/tmp/profiles (slows them a little)
  --out DIR            where latest.json and latest.md go (default bench/results)
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
        concurrency: { type: "string" },
        modes: { type: "string" },
        rules: { type: "string" },
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
  const modes = list(v.modes, ["open", "closed"]);
  for (const m of modes) if (m !== "open" && m !== "closed") throw new UsageError(`unknown mode "${m}" (open, closed)`);

  return {
    suites,
    quick,
    durationSec: number("duration", v.duration, quick ? 3 : 10, 0.5),
    warmupSec: number("warmup", v.warmup, quick ? 1 : 2, 0),
    rounds: integer("rounds", v.rounds, quick ? 3 : 5, 1),
    retries: integer("retries", v.retries, quick ? 4 : 15, 0),
    rate: number("rate", v.rate, 1000, 1),
    concurrency: integer("concurrency", v.concurrency, 16, 1),
    modes: (["open", "closed"] as const).filter((m) => modes.includes(m)),
    rules: integer("rules", v.rules, 1000, 1),
    payloadBytes: integer("payload", v.payload, 64, 0),
    pin: v.pin === true,
    profile: v.profile === true,
    outDir: resolve(REPO_ROOT, v.out ?? "bench/results"),
  };
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
