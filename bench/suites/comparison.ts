/**
 * The engine of the end-to-end suites (`e2e`, `peers`): the latency a proxy adds to an MCP
 * tools/call against a direct call to the same upstream, every target measured in one run.
 *
 * Every server runs in its own process; this process is the load generator. Each target gets
 * its own MCP sessions (one per closed-loop worker). For the open and closed loop modes, every
 * round visits every target — warm-up, then measurement — in an order that rotates from round
 * to round, so slow drift of the machine spreads over all targets instead of favouring one.
 * Added latency is taken per round (target percentile minus direct percentile of the same
 * round, so the comparison is between adjacent measurements) and the median over rounds is
 * reported. The rate sweep then looks for the highest rate each target sustains within the
 * latency objective (load/sweep.ts).
 *
 * A suite supplies the targets, starts their processes, and judges its objectives; everything
 * else — sessions, rounds, retries of disturbed measurements, CPU per call, Sentinel's stage
 * histograms — is here.
 */
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { join } from "node:path";
import type { BenchOptions, LoadMode } from "../lib/options.js";
import { backgroundLoad, readMachineCpu, type BackgroundLoad } from "../lib/machine.js";
import { REPO_ROOT, type BenchChild } from "../lib/processes.js";
import { scrapeMetrics, type StageQuantiles } from "../lib/prometheus.js";
import { median, minMax, round } from "../lib/stats.js";
import { runClosedLoop, type LoadResult } from "../load/closed-loop.js";
import { encodeHistogram, PERCENTILES, summarize, type LatencySummary, type Percentile } from "../load/histogram.js";
import { McpClient, type McpSession } from "../load/mcp-client.js";
import { runOpenLoop } from "../load/open-loop.js";
import { runSweep, type SweepResult } from "../load/sweep.js";
import type { SuiteContext } from "./suite.js";

/** Where --profile puts the proxies' CPU profiles; bench/results/tmp is git-ignored. */
export const PROFILE_DIR = join(REPO_ROOT, "bench/results/tmp/profiles");

/** The id of the reference target every suite measures: the upstream itself. */
export const DIRECT = "direct";

export interface TargetSpec {
  readonly id: string;
  readonly label: string;
  readonly description: string;
}

/** A running target, as a suite's start function hands it over. */
export interface StartedTarget {
  readonly url: string;
  /** The proxy's process; undefined for the direct target. */
  readonly proxy: BenchChild<unknown> | undefined;
  /** CPU time (µs) of whatever answers behind the proxy: the HTTP upstream, or the proxy's stdio children. */
  upstreamCpuMicros(): Promise<number | undefined>;
  /** Sentinel's Prometheus endpoint, for its own stage histograms. */
  readonly metricsUrl?: string;
}

export interface StartedTargets {
  readonly targets: Readonly<Record<string, StartedTarget>>;
  /** Sent with every request to every target; only Sentinel reads them. */
  readonly headers: Readonly<Record<string, string>>;
  /** Every process started, stopped in reverse order at the end. */
  readonly processes: ReadonlyArray<BenchChild<unknown>>;
  /** Facts for the report's settings line (policy size, peer versions…). */
  readonly facts: Readonly<Record<string, string | number>>;
}

export interface PinningPlan {
  readonly loadGeneratorAndUpstream: string;
  readonly target: string;
}

export interface ComparisonPlan {
  readonly title: string;
  readonly targets: readonly TargetSpec[];
  /** The open-loop rate, requests per second. */
  openRate(options: BenchOptions): number;
  start(options: BenchOptions, pinning: PinningPlan | null, log: (line: string) => void): Promise<StartedTargets>;
  /** The suite's objectives, judged on the finished result. */
  objectives(result: Omit<ComparisonResult, "objectives" | "notes">): Objective[];
  /** Notes of the suite's own, after the common ones. */
  notes(result: Omit<ComparisonResult, "objectives" | "notes">, options: BenchOptions): string[];
}

interface LiveTarget {
  readonly spec: TargetSpec;
  readonly client: McpClient;
  readonly sessions: readonly McpSession[];
  readonly started: StartedTarget;
}

export interface CpuPerCall {
  /** Microseconds of CPU per request in the proxy process (absent for direct). */
  readonly proxy?: number;
  /** Behind the proxy: the HTTP upstream, or the proxy's stdio children. Absent where unmeasured. */
  readonly upstream?: number;
  readonly loadGenerator: number;
}

export interface Measurement {
  readonly target: string;
  readonly mode: Exclude<LoadMode, "sweep">;
  readonly round: number;
  readonly ok: number;
  readonly errors: number;
  readonly dropped: number;
  readonly elapsedMs: number;
  readonly throughput: number;
  /** Microseconds. Open loop: from the intended send time (coordinated-omission corrected). */
  readonly latency: LatencySummary;
  /** Open loop: from the actual send. */
  readonly service?: LatencySummary;
  /** Open loop: how late sends left against the schedule. */
  readonly lateness?: LatencySummary;
  readonly cpuPerCall: CpuPerCall;
  /** CPU used by other processes on the machine during the measurement (Linux only). */
  readonly background?: BackgroundLoad;
  /** How many times this measurement was taken (repeated when disturbed); the kept one is the least disturbed. */
  readonly attempts?: number;
  /** The latency histogram, HDR compressed base64 (decode with hdr-histogram-js). */
  readonly histogram: string;
}

export type PercentileSet = Record<Percentile, number>;

export interface TargetSummary {
  readonly latency: PercentileSet;
  readonly service?: PercentileSet;
  /** Open loop: median over rounds of the p50 send lateness against the schedule. */
  readonly latenessP50?: number;
  readonly throughput: number;
  readonly ok: number;
  readonly errors: number;
  readonly dropped: number;
  readonly cpuPerCall: CpuPerCall;
}

export interface AddedLatency {
  /** Median over rounds of (target − direct) per percentile, microseconds. */
  readonly median: PercentileSet;
  /** Smallest and largest per-round value, to show the spread. */
  readonly range: Record<Percentile, { min: number; max: number }>;
  /** Same, from the uncorrected (actual send) open-loop latency. */
  readonly serviceMedian?: PercentileSet;
}

export interface ModeResult {
  readonly mode: Exclude<LoadMode, "sweep">;
  readonly measurements: Measurement[];
  readonly targets: Record<string, TargetSummary>;
  readonly added: Record<string, AddedLatency>;
}

export interface Objective {
  readonly name: string;
  readonly value: number;
  readonly limit: number;
  /** "×" (at most `limit` times the reference) or "of" (at least `limit` of the reference). */
  readonly unit: "×" | "of";
  /** null when the run cannot decide, e.g. the reference's added latency came out ≤ 0 (noise). */
  readonly pass: boolean | null;
}

export interface ComparisonResult {
  readonly title: string;
  readonly targets: readonly TargetSpec[];
  readonly settings: {
    readonly durationSec: number;
    readonly warmupSec: number;
    readonly rounds: number;
    readonly rate: number;
    readonly concurrency: number;
    readonly sessionsPerTarget: number;
    readonly payloadBytes: number;
    readonly sloMs: number;
    readonly sweepSteps: number;
    readonly sweepDurationSec: number;
    readonly pinned: PinningPlan | null;
    readonly facts: Readonly<Record<string, string | number>>;
  };
  readonly modes: Partial<Record<Exclude<LoadMode, "sweep">, ModeResult>>;
  /** Per target: the rate sweep against the latency objective. */
  readonly sweep?: Record<string, SweepResult>;
  readonly objectives: Objective[];
  /** Per target that exposes /metrics (Sentinel): its own stage histograms. */
  readonly stages: Record<
    string,
    {
      /** After the open-loop rounds: session setup, warm-ups and open-loop traffic only. */
      readonly afterOpenLoop?: Record<string, StageQuantiles>;
      /** At the end of the run: everything, closed-loop saturation and sweep included. */
      readonly wholeRun?: Record<string, StageQuantiles>;
      /** Audit records the gateway wrote to its spool during the run; absent without an audit trail. */
      readonly auditRecordsWritten?: number;
    }
  >;
  readonly notes: string[];
}

export async function runComparison(plan: ComparisonPlan, { options, log }: SuiteContext): Promise<ComparisonResult> {
  const pinning = planPinning(options);
  if (pinning !== null) {
    pinSelf(pinning.loadGeneratorAndUpstream);
    log(`pinned: load generator and upstream on CPU ${pinning.loadGeneratorAndUpstream}, targets on CPU ${pinning.target}`);
  }
  let started: StartedTargets | undefined;
  const clients: McpClient[] = [];
  try {
    started = await plan.start(options, pinning, log);
    const connections = Math.max(options.concurrency, 64);
    const live: LiveTarget[] = [];
    for (const spec of plan.targets) {
      const target = started.targets[spec.id];
      if (target === undefined) throw new Error(`the suite started no "${spec.id}" target`);
      const client = new McpClient({ url: target.url, headers: started.headers }, connections, options.payloadBytes);
      clients.push(client);
      // Opened a few at a time: a stdio target starts an upstream process per session.
      const sessions: McpSession[] = [];
      while (sessions.length < options.concurrency) {
        const batch = Math.min(4, options.concurrency - sessions.length);
        sessions.push(...(await Promise.all(Array.from({ length: batch }, () => client.openSession()))));
      }
      live.push({ spec, client, sessions, started: target });
    }
    log(`opened ${options.concurrency} MCP sessions on each of ${live.map((t) => t.spec.label).join(", ")}`);

    // One unrecorded closed-loop burst per target first, so every process is past JIT warm-up
    // before any round starts.
    for (const target of live) await runClosedLoop(target.client, target.sessions, { concurrency: options.concurrency, durationMs: Math.max(options.warmupSec, 0.5) * 1000 });

    const modes: ComparisonResult["modes"] = {};
    const retries = { left: options.retries };
    const stages: ComparisonResult["stages"] = {};
    const scrape = async (key: "afterOpenLoop" | "wholeRun"): Promise<void> => {
      for (const target of live) {
        if (target.started.metricsUrl === undefined) continue;
        const scraped = await scrapeMetrics(target.started.metricsUrl);
        stages[target.spec.id] = {
          ...stages[target.spec.id],
          [key]: scraped.stages,
          ...(scraped.auditRecordsWritten === undefined ? {} : { auditRecordsWritten: scraped.auditRecordsWritten }),
        };
      }
    };
    for (const mode of options.modes) {
      if (mode === "sweep") continue;
      const measurements: Measurement[] = [];
      for (let r = 0; r < options.rounds; r++) {
        const order = live.map((_, i) => live[(i + r) % live.length]!);
        for (const target of order) measurements.push(await measureWithRetries(target, mode, r, options, retries, log, plan.openRate(options)));
      }
      modes[mode] = summarizeMode(plan.targets, mode, measurements);
      if (mode === "open") await scrape("afterOpenLoop");
    }
    let sweep: Record<string, SweepResult> | undefined;
    if (options.modes.includes("sweep")) {
      sweep = {};
      for (const target of live) {
        const ceiling = Math.round(1.25 * (modes.closed?.targets[target.spec.id]?.throughput ?? (await saturation(target, options))));
        sweep[target.spec.id] = await runSweep(
          (rate, durationMs) => runOpenLoop(target.client, target.sessions, { rate, durationMs, maxInFlight: 10_000 }),
          { ceiling, steps: options.sweepSteps, objectiveMicros: options.sloMs * 1000, durationMs: options.sweepDurationSec * 1000, settleMs: Math.min(options.warmupSec, 0.5) * 1000 },
        );
        log(describeSweep(target.spec.label, sweep[target.spec.id]!));
      }
    }
    await scrape("wholeRun");

    const partial = {
      title: plan.title,
      targets: plan.targets,
      settings: {
        durationSec: options.durationSec,
        warmupSec: options.warmupSec,
        rounds: options.rounds,
        rate: plan.openRate(options),
        concurrency: options.concurrency,
        sessionsPerTarget: options.concurrency,
        payloadBytes: options.payloadBytes,
        sloMs: options.sloMs,
        sweepSteps: options.sweepSteps,
        sweepDurationSec: options.sweepDurationSec,
        pinned: pinning,
        facts: started.facts,
      },
      modes,
      ...(sweep === undefined ? {} : { sweep }),
      stages,
    };
    return { ...partial, objectives: plan.objectives(partial), notes: [...commonNotes(options, pinning), ...plan.notes(partial, options), ...interferenceNotes(modes)] };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    for (const p of [...(started?.processes ?? [])].reverse()) await p.stop();
    if (pinning !== null) pinSelf(`0-${cpus().length - 1}`);
  }
}

/** A short closed-loop run, when the closed-loop mode was not run, to bound the sweep. */
async function saturation(target: LiveTarget, options: BenchOptions): Promise<number> {
  const r = await runClosedLoop(target.client, target.sessions, { concurrency: options.concurrency, durationMs: Math.max(1, options.sweepDurationSec) * 1000 });
  return r.throughput;
}

/** Share of the machine other processes may take during a measurement before it counts as disturbed. */
const BACKGROUND_WARNING = 0.05;

/** So that one long disturbance cannot spend the whole retry budget on a single measurement. */
const MAX_RETRIES_PER_MEASUREMENT = 2;

const disturbance = (m: Measurement): number => (m.background?.otherShare ?? 0) + (m.background?.stealShare ?? 0);

async function measureWithRetries(
  target: LiveTarget,
  mode: Exclude<LoadMode, "sweep">,
  roundIndex: number,
  options: BenchOptions,
  retries: { left: number },
  log: (line: string) => void,
  rate: number,
): Promise<Measurement> {
  let m = await measure(target, mode, roundIndex, options, rate);
  log(describe(m));
  // Another process took a share of the machine meanwhile: measure again while the retry
  // budget lasts, and keep the least disturbed attempt. The choice depends only on the
  // background load, never on the latencies measured.
  let attempts = 1;
  while (disturbance(m) > BACKGROUND_WARNING && retries.left > 0 && attempts <= MAX_RETRIES_PER_MEASUREMENT) {
    retries.left--;
    attempts++;
    const again = await measure(target, mode, roundIndex, options, rate);
    log(`${describe(again)} (attempt ${attempts})`);
    if (disturbance(again) < disturbance(m)) m = again;
  }
  return { ...m, attempts };
}

async function measure(target: LiveTarget, mode: Exclude<LoadMode, "sweep">, roundIndex: number, options: BenchOptions, rate: number): Promise<Measurement> {
  const run = (durationSec: number): Promise<LoadResult> =>
    mode === "open"
      ? runOpenLoop(target.client, target.sessions, { rate, durationMs: durationSec * 1000, maxInFlight: 10_000 })
      : runClosedLoop(target.client, target.sessions, { concurrency: options.concurrency, durationMs: durationSec * 1000 });

  if (options.warmupSec > 0) await run(options.warmupSec);
  const before = await cpuSnapshot(target);
  const machineBefore = readMachineCpu();
  const result = await run(options.durationSec);
  const machineAfter = readMachineCpu();
  const after = await cpuSnapshot(target);
  const used = (key: "proxy" | "upstream" | "self"): number | undefined => {
    const a = before[key];
    const b = after[key];
    return a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) ? undefined : b - a;
  };
  const own = (used("proxy") ?? 0) + (used("upstream") ?? 0) + (used("self") ?? 0);
  const background = backgroundLoad(machineBefore, machineAfter, own, result.elapsedMs);
  const calls = Math.max(1, result.ok + result.errors);
  const perCall = (micros: number | undefined): number | undefined => (micros === undefined ? undefined : round(micros / calls, 1));
  const proxyCpu = perCall(used("proxy"));
  const upstreamCpu = perCall(used("upstream"));
  const cpuPerCall: CpuPerCall = {
    ...(proxyCpu === undefined ? {} : { proxy: proxyCpu }),
    ...(upstreamCpu === undefined ? {} : { upstream: upstreamCpu }),
    loadGenerator: perCall(used("self"))!,
  };
  return {
    target: target.spec.id,
    mode,
    round: roundIndex,
    ok: result.ok,
    errors: result.errors,
    dropped: result.dropped,
    elapsedMs: round(result.elapsedMs, 1),
    throughput: round(result.throughput, 1),
    latency: summarize(result.latency),
    ...(result.service === undefined ? {} : { service: summarize(result.service) }),
    ...(result.lateness === undefined ? {} : { lateness: summarize(result.lateness) }),
    cpuPerCall,
    ...(background === undefined ? {} : { background }),
    histogram: encodeHistogram(result.latency),
  };
}

async function cpuSnapshot(target: LiveTarget): Promise<{ proxy?: number; upstream?: number; self: number }> {
  const [proxy, upstream] = await Promise.all([target.started.proxy?.cpuMicros(), target.started.upstreamCpuMicros()]);
  const self = process.cpuUsage();
  return { ...(proxy === undefined ? {} : { proxy }), ...(upstream === undefined ? {} : { upstream }), self: self.user + self.system };
}

function summarizeMode(specs: readonly TargetSpec[], mode: Exclude<LoadMode, "sweep">, measurements: Measurement[]): ModeResult {
  const targets: Record<string, TargetSummary> = {};
  const added: Record<string, AddedLatency> = {};
  const of = (id: string) => measurements.filter((m) => m.target === id);
  const pick = (summary: LatencySummary | undefined, p: Percentile): number => summary?.[p] ?? NaN;
  const percentiles = (ms: Measurement[], which: "latency" | "service"): PercentileSet =>
    Object.fromEntries(PERCENTILES.map((p) => [p, median(ms.map((m) => pick(m[which], p)))])) as PercentileSet;

  for (const spec of specs) {
    const ms = of(spec.id);
    if (ms.length === 0) continue;
    const cpu = (key: keyof CpuPerCall): number | undefined => {
      const values = ms.map((m) => m.cpuPerCall[key]).filter((v): v is number => v !== undefined);
      return values.length === 0 ? undefined : round(median(values), 1);
    };
    const proxyCpu = cpu("proxy");
    const upstreamCpu = cpu("upstream");
    targets[spec.id] = {
      latency: percentiles(ms, "latency"),
      ...(mode === "open" ? { service: percentiles(ms, "service"), latenessP50: median(ms.map((m) => m.lateness?.p50 ?? NaN)) } : {}),
      throughput: round(median(ms.map((m) => m.throughput)), 0),
      ok: ms.reduce((n, m) => n + m.ok, 0),
      errors: ms.reduce((n, m) => n + m.errors, 0),
      dropped: ms.reduce((n, m) => n + m.dropped, 0),
      cpuPerCall: {
        ...(proxyCpu === undefined ? {} : { proxy: proxyCpu }),
        ...(upstreamCpu === undefined ? {} : { upstream: upstreamCpu }),
        loadGenerator: cpu("loadGenerator") ?? NaN,
      },
    };
  }

  const direct = of(DIRECT);
  for (const spec of specs) {
    if (spec.id === DIRECT) continue;
    const ms = of(spec.id);
    if (ms.length === 0 || direct.length === 0) continue;
    const perRound = (which: "latency" | "service", p: Percentile): number[] =>
      ms.map((m) => {
        const base = direct.find((d) => d.round === m.round);
        return base === undefined ? NaN : pick(m[which], p) - pick(base[which], p);
      });
    added[spec.id] = {
      median: Object.fromEntries(PERCENTILES.map((p) => [p, median(perRound("latency", p))])) as PercentileSet,
      range: Object.fromEntries(PERCENTILES.map((p) => [p, minMax(perRound("latency", p))])) as AddedLatency["range"],
      ...(mode === "open" ? { serviceMedian: Object.fromEntries(PERCENTILES.map((p) => [p, median(perRound("service", p))])) as PercentileSet } : {}),
    };
  }
  return { mode, measurements, targets, added };
}

/**
 * `subject`'s added latency at `p` is at most `limit` times `reference`'s (open loop). A ratio
 * to a non-positive reference means nothing: that percentile was lost in noise, so the
 * objective stays undecided rather than passing.
 */
export function addedRatio(result: Pick<ComparisonResult, "modes">, subject: string, reference: string, p: Percentile, limit: number, name: string): Objective | undefined {
  const open = result.modes.open?.added;
  const s = open?.[subject]?.median[p];
  const base = open?.[reference]?.median[p];
  if (s === undefined || base === undefined) return undefined;
  const value = round(s / base, 2);
  return { name, value, limit, unit: "×", pass: Number.isFinite(value) && base > 0 ? value <= limit : null };
}

/** `subject`'s throughput is at least `limit` of `reference`'s: closed-loop saturation, or the rate sustained within the objective. */
export function throughputShare(
  result: Pick<ComparisonResult, "modes" | "sweep">,
  subject: string,
  reference: string,
  source: "closed" | "sweep",
  limit: number,
  name: string,
): Objective | undefined {
  const of = (id: string): number | null | undefined => (source === "closed" ? result.modes.closed?.targets[id]?.throughput : result.sweep?.[id]?.sustainedRate);
  const s = of(subject);
  const base = of(reference);
  if (s === undefined || base === undefined) return undefined;
  if (s === null || base === null || base <= 0) return { name, value: NaN, limit, unit: "of", pass: null };
  const value = round(s / base, 2);
  return { name, value, limit, unit: "of", pass: value >= limit };
}

function commonNotes(options: BenchOptions, pinning: PinningPlan | null): string[] {
  const out = [
    "Every process runs from TypeScript sources through tsx; a compiled build runs the same JavaScript.",
    "Open-loop latency is measured from each request's intended send time (coordinated-omission corrected). It includes the load generator's own lateness against its schedule (mostly thread wake-up time; the `send lateness` column), which is nearly the same for every target and largely cancels in the added latency.",
    "Closed-loop throughput is the saturation throughput at the given concurrency; its latency is measured from the actual send. The rate sweep gives the highest open-loop rate each target sustains within the latency objective.",
  ];
  if (pinning === null) {
    out.push(`All processes share the machine's ${cpus().length} CPUs unpinned: load generator, upstream and the target compete for cores, as they would on one small host.`);
  }
  if (options.quick) out.push("Quick mode: short measurements; p99.9 rests on few samples, and the sweep's resolution is coarse.");
  if (options.profile) out.push("Profiled run: the proxies ran under the V8 CPU profiler (profiles in bench/results/tmp/profiles), which slows them; do not compare these numbers with unprofiled runs.");
  return out;
}

function interferenceNotes(modes: ComparisonResult["modes"]): string[] {
  const all = Object.values(modes).flatMap((m) => m?.measurements ?? []);
  const disturbed = all.filter((m) => disturbance(m) > BACKGROUND_WARNING);
  if (disturbed.length === 0) return [];
  const worst = Math.max(...disturbed.map(disturbance));
  return [
    `**Background load:** in ${disturbed.length} of ${all.length} measurements other processes (or hypervisor steal) used more than ${BACKGROUND_WARNING * 100}% of the machine, up to ${Math.round(worst * 100)}%. ` +
      "Those numbers are skewed (repeating them ran out of retries); per-measurement figures are under `background` in latest.json. Re-run on a quiet machine.",
  ];
}

function describe(m: Measurement): string {
  const l = m.latency;
  const fail = m.errors + m.dropped > 0 ? ` errors=${m.errors} dropped=${m.dropped}` : "";
  const cpu = m.cpuPerCall.proxy === undefined ? "" : ` proxy-cpu=${m.cpuPerCall.proxy}µs/call`;
  const other = m.background === undefined ? "" : ` background=${Math.round((m.background.otherShare + m.background.stealShare) * 100)}%`;
  return `${m.mode}-loop round ${m.round + 1} ${m.target.padEnd(14)} ${Math.round(m.throughput)} req/s  p50=${l.p50}µs p90=${l.p90}µs p99=${l.p99}µs p99.9=${l.p999}µs${cpu}${other}${fail}`;
}

function describeSweep(label: string, s: SweepResult): string {
  const steps = s.steps.map((st) => `${st.rate}/s p99=${st.latency.p99}µs ${st.pass ? "ok" : "miss"}`).join(", ");
  return `sweep ${label}: sustained ${s.sustainedRate ?? "none"} req/s within p99 ≤ ${s.objectiveMicros / 1000} ms (${steps})`;
}

function planPinning(options: BenchOptions): PinningPlan | null {
  if (!options.pin) return null;
  const n = cpus().length;
  if (n < 2) throw new Error("--pin needs at least 2 CPUs");
  return { loadGeneratorAndUpstream: "0", target: n === 2 ? "1" : `1-${n - 1}` };
}

function pinSelf(cpuList: string): void {
  // -a: every thread of this process (V8 and libuv threads included), not only the main one.
  execFileSync("taskset", ["-a", "-p", "-c", cpuList, String(process.pid)], { stdio: "ignore" });
}
