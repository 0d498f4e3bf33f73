import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import type { PolicyConfig } from "../../engine/config/types.js";
import { PolicyPool } from "../../engine/policy/policy-pool.js";
import type { PolicySource } from "../../engine/policy/policy-snapshot.js";
import { SnapshotBuffer, SnapshotTooLargeError } from "../../engine/policy/snapshot.js";

/** A rule set whose every rule id carries `tag`, so a decision tells which set made it. */
function ruleSet(tag: string, size: number, final: "allow" | "deny"): PolicySource {
  const policies: PolicyConfig[] = [];
  for (let i = 0; i < size; i++) {
    policies.push({ id: `${tag}-${i}`, target: "mcp.tool", pattern: `tool-${i}`, conditions: [{ field: "role", op: "eq", value: `r${i}` }], action: "deny" });
  }
  policies.push({ id: `${tag}-final`, target: "mcp.tool", pattern: "*", action: final });
  return { tenants: [{ id: "acme", policies }] };
}

describe("the shared snapshot buffer", () => {
  it("a reader on another thread sees each published snapshot whole, never a mix of two", async () => {
    const buffer = new SnapshotBuffer(64 * 1024);
    // Payloads of very different sizes, so a torn read would show as a wrong length or bytes.
    const payloads = ["a".repeat(10), "b".repeat(40_000), "c".repeat(1_000), "d".repeat(20_000)];
    buffer.publish(new TextEncoder().encode(payloads[0]));
    const stop = new SharedArrayBuffer(4);
    // A TypeScript worker entry is loaded through a dynamic import, after tsx's hooks are in.
    const entry = pathToFileURL(resolve(import.meta.dirname, "../fixtures/snapshot-reader-worker.ts")).href;
    const worker = new Worker(`import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`, {
      eval: true,
      workerData: { sab: buffer.buffer, stop },
    });
    type Message = { ready?: true; reads?: number; seen?: Array<[number, string]> };
    const next = () => new Promise<Message>((ok) => worker.once("message", ok));
    await next(); // the reader is up and reading
    const done = next();
    // Publish for a fixed time rather than a fixed count, so the reader overlaps many publishes
    // however slowly the machine runs.
    const encoded = payloads.map((p) => new TextEncoder().encode(p));
    let g = 1;
    for (const until = Date.now() + 150; Date.now() < until; g++) buffer.publish(encoded[g % encoded.length]!);
    Atomics.store(new Int32Array(stop), 0, 1);
    const { reads, seen } = (await done) as { reads: number; seen: Array<[number, string]> };
    await worker.terminate();
    expect(g).toBeGreaterThan(100);
    expect(reads).toBeGreaterThan(10);
    for (const [generation, text] of seen) expect(text).toBe(payloads[(generation - 1) % payloads.length]);
  });

  it("refuses a snapshot larger than its capacity, and keeps the current one", () => {
    const buffer = new SnapshotBuffer(16);
    buffer.publish(new TextEncoder().encode("fits"));
    expect(() => buffer.publish(new Uint8Array(17))).toThrow(SnapshotTooLargeError);
    expect(new TextDecoder().decode(buffer.read().bytes)).toBe("fits");
    expect(buffer.generation()).toBe(1);
  });
});

describe("policy evaluation in the worker pool", () => {
  const pool = new PolicyPool(ruleSet("a", 100, "allow"), { threads: 1 });
  afterAll(() => pool.close());

  const input = { tenant: "acme", user: "u", metadata: { role: "dev" }, connection: "c", target: "mcp.tool" as const, name: "echo" };

  it("decides like inline evaluation", async () => {
    const result = await pool.evaluate(input);
    expect(result.decision).toMatchObject({ action: "allow", ruleId: "a-final", permitted: true });
  });

  it("a publish under load drops no call and no call sees a mix of two rule sets", async () => {
    const sets = [ruleSet("a", 100, "allow"), ruleSet("b", 100, "deny")];
    const calls: Array<Promise<{ generation: number; decision: { ruleId: string } }>> = [];
    const generations = new Map<number, string>([[pool.generation, "a"]]);
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 50; i++) calls.push(pool.evaluate(input));
      const tag = round % 2 === 0 ? "b" : "a";
      generations.set(pool.publish(sets[tag === "a" ? 0 : 1]!), tag);
      await new Promise((r) => setImmediate(r));
    }
    const results = await Promise.all(calls);
    expect(results).toHaveLength(2000);
    for (const { generation, decision } of results) {
      const tag = generations.get(generation);
      expect(tag).toBeDefined();
      expect(decision.ruleId).toBe(`${tag}-final`);
    }
    expect(new Set(results.map((r) => r.generation)).size).toBeGreaterThan(1);
  });

  it("grows onto a bigger buffer when a rule set outgrows it", async () => {
    const small = new PolicyPool(ruleSet("s", 1, "allow"), { capacity: 1024 });
    try {
      small.publish(ruleSet("big", 2000, "deny"));
      expect((await small.evaluate(input)).decision.ruleId).toBe("big-final");
    } finally {
      await small.close();
    }
  });
});
