/**
 * Limit check micro-benchmarks: the cost of admitting one call, from the counter store alone up
 * to a tenant's limits (which limits count the call, their keys, the all-or-nothing charge).
 * Checks run in batches of 1,000 because one is close to the timer's resolution; the table
 * reports per-check figures. Target: ≤ 1 µs per check.
 *
 *   node --import tsx bench/micro/limits.bench.ts [--quick]
 */
import { Bench } from "tinybench";
import { compileLimits, type LimitedCall } from "../../engine/limits/compile-limits.js";
import { MemoryCounterStore } from "../../engine/limits/counter-store.js";
import { writeMicroResult } from "./output.js";

const quick = process.argv.includes("--quick");
const BATCH = 1000;
const HUGE = Number.MAX_SAFE_INTEGER; // admitted every time: the common path

const limits = compileLimits("acme", [
  { id: "user-rpm", scope: "user", metric: "requests", window: "minute", max: HUGE },
  { id: "tool-tokens", scope: "tool", tools: "repo.*", metric: "tokens", window: "hour", max: HUGE },
  { id: "spend", scope: "tenant", metric: "dollars", window: "day", max: 1e9 },
])!;
const users = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
const call = (user: string): LimitedCall => ({ tenant: "acme", user, session: `s-${user}`, connection: "github", tool: "repo.read" });
const calls = users.map(call);

async function main(): Promise<void> {
  const bench = new Bench({ time: quick ? 300 : 2000, warmupTime: quick ? 100 : 500 });
  const one = new MemoryCounterStore();
  const request = [{ counter: "acme\u0000user-rpm\u0000requests", scope: "alice", windowMs: 60_000, max: HUGE, amount: 1 }];
  bench.add("store: one counter", () => {
    for (let i = 0; i < BATCH; i++) one.acquire(request);
  });
  const full = new MemoryCounterStore();
  const refused = [{ counter: "full", scope: "", windowMs: 60_000, max: 0, amount: 1 }];
  bench.add("store: one counter, refused", () => {
    for (let i = 0; i < BATCH; i++) full.acquire(refused);
  });
  const tenantOne = new MemoryCounterStore();
  const alice = call("alice");
  bench.add("tenant: 3 limits, one user", () => {
    for (let i = 0; i < BATCH; i++) limits.admit(tenantOne, alice, { tokensIn: 120, micros: 5000 });
  });
  const tenantMany = new MemoryCounterStore();
  let u = 0;
  bench.add("tenant: 3 limits, 10,000 users", () => {
    for (let i = 0; i < BATCH; i++) limits.admit(tenantMany, calls[u++ % calls.length]!, { tokensIn: 120, micros: 5000 });
  });
  await bench.run();

  const rows = bench.tasks.map((t) => {
    const r = t.result as unknown as { latency: { p50: number; p99: number } };
    return { name: t.name, p50Micros: (r.latency.p50 * 1000) / BATCH, p99Micros: (r.latency.p99 * 1000) / BATCH };
  });
  writeMicroResult("limits", { rows }, ["| limit check | p50 (µs) | p99 (µs) |", "|---|---:|---:|", ...rows.map((r) => `| ${r.name} | ${r.p50Micros.toFixed(3)} | ${r.p99Micros.toFixed(3)} |`)].join("\n"));
}

await main();
