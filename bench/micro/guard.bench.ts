/**
 * Content Guard and Token Guard micro-benchmarks, over the corpus the tests use
 * (test/cases/guard-cases.ts):
 *  - scan throughput with every built-in pattern at 1 KiB, 64 KiB and 1 MiB of JSON tool
 *    arguments, RE2 (one Set pass, then the patterns that hit) against plain JS RegExp running
 *    the same patterns one by one with the same validators, in the same run;
 *  - one 64 KiB string (a single leaf);
 *  - inline scanning against a round trip through the worker pool, which decides `offloadBytes`;
 *  - token counting (o200k_base).
 *
 *   node --import tsx bench/micro/guard.bench.ts [--quick]
 */
import { performance } from "node:perf_hooks";
import { Bench } from "tinybench";
import { compileGuard } from "../../engine/guard/compile-guard.js";
import { BUILTIN_PATTERNS } from "../../engine/guard/library.js";
import { normalizeForScan, originalRange } from "../../engine/guard/normalize.js";
import { ScanPool } from "../../engine/guard/scan-pool.js";
import type { TextMatch } from "../../engine/guard/scan.js";
import { countJsonTokens, counterForModel } from "../../engine/guard/tokens.js";
import { VALIDATORS } from "../../engine/guard/validators.js";
import { nearestKey, walkStrings } from "../../engine/guard/walk.js";
import { guardCorpus } from "../../test/cases/guard-cases.js";
import { writeMicroResult } from "./output.js";

const quick = process.argv.includes("--quick");
const SIZES = [1024, 64 * 1024, 1024 * 1024];
const guard = compileGuard({ builtins: BUILTIN_PATTERNS.map((p) => p.id) })!;
const patterns = guard.spec.patterns;

/** The baseline: the same patterns as JS RegExps, run one by one over each leaf. */
const jsRegexes = patterns.map((p) => {
  const insensitive = p.source.startsWith("(?i)");
  return new RegExp(insensitive ? p.source.slice(4) : p.source, `g${insensitive ? "i" : ""}${p.group ? "d" : ""}`);
});

function jsScanText(input: string, key: string | undefined): TextMatch[] {
  const n = normalizeForScan(input);
  const out: TextMatch[] = [];
  jsRegexes.forEach((re, p) => {
    const validate = patterns[p]!.validator === undefined ? undefined : VALIDATORS[patterns[p]!.validator!];
    re.lastIndex = 0;
    for (let m = re.exec(n.text); m !== null; m = re.exec(n.text)) {
      const [s, e] = patterns[p]!.group ? m.indices![1]! : [m.index, m.index + m[0].length];
      const end = validate === undefined ? e : validate(n.text, s, e, key);
      if (end < 0) {
        re.lastIndex = patterns[p]!.retryInside === true ? s + 1 : e;
        continue;
      }
      re.lastIndex = Math.max(end, s + 1);
      const [os, oe] = originalRange(n, s, end);
      out.push({ pattern: p, start: os, end: oe });
    }
  });
  return out;
}

function jsScanValue(value: unknown): number {
  let found = 0;
  walkStrings(value, (text, node) => (found += jsScanText(text, nearestKey(node)).length));
  return found;
}

const re2Count = (value: unknown) => guard.scanner.scanValue(value).reduce((n, l) => n + l.matches.length, 0);

interface ScanRow {
  readonly shape: string;
  readonly bytes: number;
  readonly findings: number;
  readonly re2: { ms: number; mbps: number };
  readonly js: { ms: number; mbps: number };
}

async function measure(label: string, fn: () => unknown): Promise<{ p50: number; mean: number }> {
  const bench = new Bench({ time: quick ? 300 : 1500, warmupTime: quick ? 100 : 300 });
  bench.add(label, fn);
  await bench.run();
  const r = bench.tasks[0]!.result as unknown as { latency: { p50: number; mean: number } };
  return { p50: r.latency.p50, mean: r.latency.mean };
}

async function scanRows(): Promise<ScanRow[]> {
  const rows: ScanRow[] = [];
  const shapes: Array<[string, unknown]> = SIZES.map((size) => [`JSON args, ${size / 1024} KiB`, guardCorpus(size)]);
  shapes.push(["one 64 KiB string", JSON.stringify(guardCorpus(64 * 1024))]);
  for (const [shape, value] of shapes) {
    const bytes = Buffer.byteLength(JSON.stringify(value));
    const findings = re2Count(value);
    if (jsScanValue(value) !== findings) throw new Error(`RE2 and RegExp disagree on ${shape}`);
    const re2 = await measure(`re2 ${shape}`, () => guard.scanner.scanValue(value));
    const js = await measure(`js ${shape}`, () => jsScanValue(value));
    const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);
    rows.push({ shape, bytes, findings, re2: { ms: re2.p50, mbps: mbps(re2.p50) }, js: { ms: js.p50, mbps: mbps(js.p50) } });
  }
  return rows;
}

/** Inline scan + count against the same work in the pool (JSON text in, findings out). */
async function offloadRows(): Promise<Array<{ kib: number; inlineMs: number; poolMs: number }>> {
  const pool = new ScanPool(1);
  // As the gateway does on every config publish: the pattern set goes into the shared snapshot
  // once, and each task names only its key.
  pool.publish(new Map([["bench", guard.spec]]));
  const counter = counterForModel(undefined);
  const rows = [];
  for (const kib of [1, 16, 64, 256]) {
    const args = guardCorpus(kib * 1024, 9);
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "t", arguments: args } });
    const task = { specKey: "bench", spec: guard.spec, json: body, pick: ["params", "arguments"], tokens: undefined };
    for (let i = 0; i < 20; i++) await pool.run(task); // warm: compiled scanner, JIT
    const inline = await measure(`inline ${kib}`, () => guard.scanner.scanValue(JSON.parse(body).params.arguments));
    const rounds = quick ? 50 : 200;
    const t = performance.now();
    for (let i = 0; i < rounds; i++) await pool.run(task);
    rows.push({ kib, inlineMs: inline.p50, poolMs: (performance.now() - t) / rounds });
    void counter;
  }
  await pool.close();
  return rows;
}

async function tokenRows(): Promise<Array<{ kib: number; ms: number; mbps: number }>> {
  const counter = counterForModel(undefined);
  const rows = [];
  for (const kib of [1, 64]) {
    const args = guardCorpus(kib * 1024, 11);
    const bytes = JSON.stringify(args).length;
    const r = await measure(`tokens ${kib}`, () => countJsonTokens(args, counter));
    rows.push({ kib, ms: r.p50, mbps: bytes / 1e6 / (r.p50 / 1000) });
  }
  return rows;
}

async function main(): Promise<void> {
  const scans = await scanRows();
  const offload = await offloadRows();
  const tokens = await tokenRows();
  const f = (n: number, d = 1) => n.toFixed(d);
  const lines = [
    `Content Guard, all ${patterns.length} built-in patterns, one core (p50 per scan):`,
    "",
    "| payload | bytes | findings | RE2 (ms) | RE2 (MB/s) | JS RegExp (ms) | JS RegExp (MB/s) |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...scans.map((r) => `| ${r.shape} | ${r.bytes} | ${r.findings} | ${f(r.re2.ms, 3)} | ${f(r.re2.mbps)} | ${f(r.js.ms, 3)} | ${f(r.js.mbps)} |`),
    "",
    "| JSON args | inline scan (ms) | worker pool round trip (ms) |",
    "|---:|---:|---:|",
    ...offload.map((r) => `| ${r.kib} KiB | ${f(r.inlineMs, 3)} | ${f(r.poolMs, 3)} |`),
    "",
    "| token counting, o200k_base | ms | MB/s |",
    "|---:|---:|---:|",
    ...tokens.map((r) => `| ${r.kib} KiB | ${f(r.ms, 3)} | ${f(r.mbps)} |`),
  ];
  writeMicroResult("guard", { scans, offload, tokens }, lines.join("\n"));
}

await main();
