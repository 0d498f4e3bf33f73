/**
 * Policy snapshot micro-benchmarks (engine/policy/snapshot.ts, policy-snapshot.ts): what a
 * config change costs the publisher — encode the rule set, copy it into the inactive half of
 * the SharedArrayBuffer and flip the generation — and what it costs a reader: nothing but one
 * Atomics.load per call while the generation stands, and copy + decode + compile once after a
 * publish. At 10, 1,000 and 10,000 rules, over the generated rule sets the policy tests use
 * (test/cases/policy-cases.ts).
 *
 *   node --import tsx bench/micro/snapshot.bench.ts [--quick]
 */
import { Bench } from "tinybench";
import { encodePolicySource, PolicySnapshotReader, type PolicySource } from "../../engine/policy/policy-snapshot.js";
import { SnapshotBuffer } from "../../engine/policy/snapshot.js";
import { generatedRules } from "../../test/cases/policy-cases.js";
import { markdownTable, writeMicroResult } from "./output.js";

const quick = process.argv.includes("--quick");
const SIZES = [10, 1_000, 10_000];
/** Reader checks are timed in batches: one is a single atomic load, below the timer's resolution. */
const CHECKS = 1000;

interface Row {
  readonly rules: number;
  readonly bytes: number;
  /** Microseconds, p50 (p99). */
  readonly encode: [number, number];
  readonly publish: [number, number];
  readonly readCopy: [number, number];
  readonly readerUnchanged: [number, number];
  readonly readerAfterPublish: [number, number];
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const size of SIZES) {
    const source: PolicySource = { tenants: [{ id: "t", policies: generatedRules(size) }] };
    const bytes = encodePolicySource(source);
    const buffer = new SnapshotBuffer(bytes.byteLength * 2);
    buffer.publish(bytes);
    const reader = new PolicySnapshotReader(buffer);
    reader.current();

    // Few iterations at least: a reader refresh compiles the whole rule set, a good fraction of a
    // second at 10,000 rules.
    const heavy = size >= 10_000;
    const bench = new Bench({
      time: quick ? 100 : 1500,
      warmupTime: quick ? 50 : 300,
      iterations: quick ? (heavy ? 3 : 8) : heavy ? 12 : 32,
      warmupIterations: quick ? 1 : heavy ? 3 : 8,
    });
    bench.add(`encode ${size}`, () => void encodePolicySource(source));
    bench.add(`publish ${size}`, () => void buffer.publish(bytes));
    bench.add(`read copy ${size}`, () => void buffer.read());
    bench.add(`reader, generation unchanged ${size}`, () => {
      for (let i = 0; i < CHECKS; i++) reader.current();
    });
    // The publish is part of each iteration so the reader always finds a new generation; its
    // cost (measured above) is subtracted below.
    bench.add(`reader after a publish ${size}`, () => {
      buffer.publish(bytes);
      reader.current();
    });
    await bench.run();
    const [encode, publish, copy, unchanged, after] = bench.tasks.map((t) => {
      const r = t.result as unknown as { latency: { p50: number; p99: number } };
      return [r.latency.p50 * 1000, r.latency.p99 * 1000] as [number, number];
    }) as [[number, number], [number, number], [number, number], [number, number], [number, number]];
    rows.push({
      rules: size,
      bytes: bytes.byteLength,
      encode,
      publish,
      readCopy: copy,
      readerUnchanged: [unchanged[0] / CHECKS, unchanged[1] / CHECKS],
      readerAfterPublish: [Math.max(0, after[0] - publish[0]), Math.max(0, after[1] - publish[1])],
    });
  }
  const cell = ([p50, p99]: [number, number], digits = 1): string => `${p50.toFixed(digits)} (${p99.toFixed(digits)})`;
  const markdown = [
    "Policy snapshot, µs p50 (p99); publish = copy into the SharedArrayBuffer + generation flip, after encoding:",
    "",
    markdownTable(
      rows.map((r) => ({
        rules: r.rules.toLocaleString("en-US"),
        "snapshot bytes": r.bytes.toLocaleString("en-US"),
        "encode (JSON)": cell(r.encode),
        publish: cell(r.publish),
        "read (copy out)": cell(r.readCopy),
        "reader, per call, no change": cell(r.readerUnchanged, 3),
        "reader after a publish (copy, decode, compile)": cell(r.readerAfterPublish),
      })),
    ),
  ].join("\n");
  writeMicroResult("snapshot", { quick, unit: "µs, [p50, p99]", rows }, markdown);
}

await main();
