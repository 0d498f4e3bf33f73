/**
 * Content Guard pattern sets reach the scan pool's workers through the shared snapshot: tasks
 * name a key and a generation, workers compile per key on first use and keep what they
 * compiled while the key stays published.
 */
import { afterAll, describe, expect, it } from "vitest";
import { compileGuard } from "../../engine/guard/compile-guard.js";
import { encodeGuardSpecs, GuardSnapshotReader } from "../../engine/guard/guard-snapshot.js";
import { ScanPool } from "../../engine/guard/scan-pool.js";
import type { ScanSpec } from "../../engine/guard/scan.js";
import { SnapshotBuffer } from "../../engine/policy/snapshot.js";

const ssn = compileGuard({ builtins: ["us-ssn"] })!.spec;
const email = compileGuard({ builtins: ["email"] })!.spec;
const codename = compileGuard({ patterns: [{ id: "codename", keywords: ["falcon"], action: "deny" }] })!.spec;

const body = (text: string) => JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "t", arguments: { text } } });
const SAMPLE = "ssn 123-45-6789, mail bob@example.com, about falcon";

describe("a worker's view of the guard snapshot", () => {
  const publish = (buffer: SnapshotBuffer, specs: Record<string, ScanSpec>) => buffer.publish(encodeGuardSpecs(new Map(Object.entries(specs))));

  it("compiles a key once, on first use, and keeps it while later publishes keep the key", () => {
    const buffer = new SnapshotBuffer(1 << 16);
    const reader = new GuardSnapshotReader(buffer);
    const g1 = publish(buffer, { a: ssn });
    expect(reader.compiled).toBe(0);
    const first = reader.scanner("a", g1)!;
    expect(first.scanText(SAMPLE).map((m) => first.patterns[m.pattern]!.id)).toEqual(["us-ssn"]);
    expect(reader.scanner("a", g1)).toBe(first);
    const g2 = publish(buffer, { a: ssn, b: email });
    expect(reader.scanner("a", g2)).toBe(first);
    expect(reader.scanner("b", g2)!.scanText(SAMPLE)).toHaveLength(1);
    expect(reader.compiled).toBe(2);
  });

  it("reads the buffer again only for a task posted under a newer generation", () => {
    const buffer = new SnapshotBuffer(1 << 16);
    const reader = new GuardSnapshotReader(buffer);
    const g1 = publish(buffer, { a: ssn });
    expect(reader.scanner("b", g1)).toBeUndefined();
    const g2 = publish(buffer, { a: ssn, b: email });
    expect(reader.scanner("b", g2)).toBeDefined();
  });

  it("a key a publish dropped is gone, and its scanner with it", () => {
    const buffer = new SnapshotBuffer(1 << 16);
    const reader = new GuardSnapshotReader(buffer);
    const g1 = publish(buffer, { a: ssn });
    const old = reader.scanner("a", g1);
    const g2 = publish(buffer, { b: email });
    expect(reader.scanner("b", g2)).toBeDefined();
    expect(reader.scanner("a", g2)).toBeUndefined();
    // A task that brings its spec along is still served, by a scanner compiled afresh.
    const adopted = reader.adopt("a", ssn);
    expect(adopted).not.toBe(old);
    expect(adopted.scanText(SAMPLE)).toHaveLength(1);
  });
});

describe("the scan pool over the snapshot", () => {
  const pool = new ScanPool(1);
  afterAll(() => pool.close());
  const task = (specKey: string, spec: ScanSpec | undefined, text = SAMPLE) =>
    ({ specKey, spec, json: body(text), pick: ["params", "arguments"], tokens: undefined }) as const;
  const ids = (leaves: Array<{ matches: readonly { pattern: number }[] }>, spec: ScanSpec) => leaves.flatMap((l) => l.matches.map((m) => spec.patterns[m.pattern]!.id));

  it("a published key is scanned without the spec crossing to the worker", async () => {
    pool.publish(new Map([["ssn", ssn], ["email", email]]));
    expect(ids((await pool.run(task("ssn", ssn))).leaves, ssn)).toEqual(["us-ssn"]);
    expect(ids((await pool.run(task("email", email))).leaves, email)).toEqual(["email"]);
    expect(pool.specsPosted).toBe(0);
  });

  it("after a publish, the worker scans with the new set", async () => {
    pool.publish(new Map([["codename", codename]]));
    expect(ids((await pool.run(task("codename", codename))).leaves, codename)).toEqual(["codename"]);
    expect(pool.specsPosted).toBe(0);
  });

  it("a task whose key a publish dropped is posted again with its spec, once, and scanned right", async () => {
    const result = await pool.run(task("ssn", ssn));
    expect(ids(result.leaves, ssn)).toEqual(["us-ssn"]);
    expect(pool.specsPosted).toBe(1);
  });

  it("a count-only task names no spec", async () => {
    const result = await pool.run({ specKey: "whatever", spec: undefined, json: body("hello world"), pick: ["params", "arguments"], tokens: "estimate" });
    expect(result).toEqual({ leaves: [], tokens: 6 });
  });

  it("a snapshot larger than the buffer moves to a bigger one, and scanning goes on", async () => {
    const many = new Map<string, ScanSpec>();
    for (let i = 0; i < 400; i++) many.set(`k${i}`, compileGuard({ patterns: [{ id: `p${i}`, pattern: `CODE-${i}-[0-9]{4}`, action: "deny" }] })!.spec);
    pool.publish(many);
    const spec = many.get("k399")!;
    expect(ids((await pool.run(task("k399", spec, "see CODE-399-1234"))).leaves, spec)).toEqual(["p399"]);
  });
});
