/**
 * Policy micro-benchmarks: compile and evaluate measured apart, at 10, 1,000 and 10,000 rules,
 * over the same generated rule sets and calls the tests use (test/cases/policy-cases.ts); then
 * policy lookup through the worker pool against inline evaluation, in the same run.
 *
 *   node --import tsx bench/micro/policy.bench.ts [--quick]
 *
 * Evaluations are timed in batches (one batch = every case 20 times) because a single
 * evaluation is close to the timer's resolution; the table reports per-evaluation figures.
 */
import { performance } from "node:perf_hooks";
import { Bench } from "tinybench";
import { compilePolicy } from "../../engine/policy/compile-policy.js";
import { toInput } from "../../engine/policy/dry-run.js";
import { PolicyPool } from "../../engine/policy/policy-pool.js";
import { generatedCases, generatedRules } from "../../test/cases/policy-cases.js";
import { writeMicroResult } from "./output.js";

const quick = process.argv.includes("--quick");
const SIZES = [10, 1_000, 10_000];
const REPEAT = 20;

interface Row {
  size: number;
  compileMs: { p50: number; p99: number };
  evaluateMicros: { p50: number; p99: number };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const size of SIZES) {
    const rules = generatedRules(size);
    const inputs = generatedCases(size).map((c) => toInput({ ...c.call, tenant: "t" }));
    const policy = compilePolicy(rules);
    const batch = inputs.length * REPEAT;
    // At least 20 compiles per size, even where the time budget would allow fewer, so the p99
    // is read from a real sample rather than one or two runs.
    const bench = new Bench({ time: quick ? 300 : 2000, warmupTime: quick ? 100 : 500, iterations: 20 });
    bench.add(`compile ${size}`, () => void compilePolicy(rules));
    bench.add(`evaluate ${size}`, () => {
      for (let r = 0; r < REPEAT; r++) for (const input of inputs) policy.evaluate(input);
    });
    await bench.run();
    const [compile, evaluate] = bench.tasks.map((t) => t.result as unknown as { latency: { p50: number; p99: number } });
    rows.push({
      size,
      compileMs: { p50: compile!.latency.p50, p99: compile!.latency.p99 },
      evaluateMicros: { p50: (evaluate!.latency.p50 * 1000) / batch, p99: (evaluate!.latency.p99 * 1000) / batch },
    });
  }

  // Inline against the pool, on the 1,000-rule set, for the same calls.
  const rules = generatedRules(1_000);
  const inputs = generatedCases(1_000).map((c) => toInput({ ...c.call, tenant: "t" }));
  const policy = compilePolicy(rules);
  const pool = new PolicyPool({ tenants: [{ id: "t", policies: rules }] });
  for (let i = 0; i < 2000; i++) await pool.evaluate(inputs[i % inputs.length]!); // warm
  const rounds = quick ? 2_000 : 20_000;
  const inline = timePerCall(rounds, () => policy.evaluate(inputs[0]!));
  let t = performance.now();
  for (let i = 0; i < rounds / 10; i++) await pool.evaluate(inputs[i % inputs.length]!);
  const poolSequential = ((performance.now() - t) * 1000) / (rounds / 10);
  t = performance.now();
  for (let i = 0; i < rounds / 64; i++) await Promise.all(Array.from({ length: 64 }, (_, k) => pool.evaluate(inputs[k % inputs.length]!)));
  const poolPipelined = ((performance.now() - t) * 1000) / (Math.floor(rounds / 64) * 64);
  await pool.close();

  const lines = [
    "| rules | compile p50 (ms) | compile p99 (ms) | evaluate p50 (µs) | evaluate p99 (µs) |",
    "|---:|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.size} | ${r.compileMs.p50.toFixed(2)} | ${r.compileMs.p99.toFixed(2)} | ${r.evaluateMicros.p50.toFixed(3)} | ${r.evaluateMicros.p99.toFixed(3)} |`),
    "",
    "| policy lookup, 1,000 rules | µs per call | × inline |",
    "|---|---:|---:|",
    `| inline, main thread | ${inline.toFixed(3)} | 1 |`,
    `| pool, one call at a time | ${poolSequential.toFixed(1)} | ${(poolSequential / inline).toFixed(0)} |`,
    `| pool, 64 calls in flight | ${poolPipelined.toFixed(1)} | ${(poolPipelined / inline).toFixed(0)} |`,
  ];
  writeMicroResult("policy", { quick, rows, lookup: { inlineMicros: inline, poolSequentialMicros: poolSequential, poolPipelinedMicros: poolPipelined } }, lines.join("\n"));
}

function timePerCall(n: number, fn: () => unknown): number {
  for (let i = 0; i < n; i++) fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - t) * 1000) / n;
}

await main();
