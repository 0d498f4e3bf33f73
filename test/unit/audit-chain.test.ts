import { describe, expect, it } from "vitest";
import { canonicalJson, canonicalRecordJson } from "../../engine/audit/canonical.js";
import { checkpointMessage, GENESIS_HASH, recordHash, seal } from "../../engine/audit/chain.js";
import { storedArguments } from "../../engine/audit/record.js";
import type { AuditRecord } from "../../engine/audit/record.js";
import { ChainVerifier, formatReport } from "../../engine/audit/verify.js";
import { sealedChain, testKeys } from "../support/audit-fixtures.js";

describe("the canonical encoding", () => {
  it.each<[string, unknown, string]>([
    ["sorts keys at every depth", { b: 1, a: { d: [1, { z: 1, y: 2 }], c: "x" } }, '{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}'],
    ["omits undefined members", { a: undefined, b: null }, '{"b":null}'],
    ["writes undefined array items as null", [undefined, 1], "[null,1]"],
    ["escapes strings as JSON does", { "k\n": "\u0000é" }, '{"k\\n":"\\u0000é"}'],
  ])("%s", (_label, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it("refuses numbers JSON cannot represent", () => {
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(TypeError);
  });

  it("gives the same bytes whatever order a store hands members back in", () => {
    const [r] = sealedChain(1);
    const reordered = Object.fromEntries(Object.entries(r!).reverse()) as unknown as AuditRecord;
    expect(recordHash(reordered)).toBe(r!.hash);
  });
});

describe("sealing", () => {
  it("links each record to the one before and starts from the genesis hash", () => {
    const chain = sealedChain(3);
    expect(chain[0]!.prev).toBe(GENESIS_HASH);
    expect(chain[1]!.prev).toBe(chain[0]!.hash);
    expect(chain.map((r) => r.seq)).toEqual([1, 2, 3]);
    for (const r of chain) expect(recordHash(r)).toBe(r.hash);
  });

  it("writes a spool line that parses back to the sealed record", () => {
    const { record, line } = seal({ v: 1, kind: "call", id: "t", time: "2026-01-01T00:00:00.000Z", tenant: "acme" }, { chain: "c", seq: 4, hash: "a".repeat(64) });
    expect(JSON.parse(line)).toEqual(record);
    expect(record.seq).toBe(5);
  });
});

describe("arguments storage", () => {
  const args = { repo: "acme/api", opts: { force: true, tags: ["a", "b"] } };
  it.each<[string, "none" | "redacted" | "full", unknown]>([
    ["none stores nothing", "none", undefined],
    ["redacted keeps keys and replaces every value", "redacted", { repo: "[redacted]", opts: { force: "[redacted]", tags: ["[redacted]", "[redacted]"] } }],
    ["full stores the arguments as sent", "full", args],
  ])("%s", (_label, mode, expected) => {
    expect(storedArguments(args, mode)).toEqual(expected);
  });
});

function checkpointAfter(chain: AuditRecord[], signer: ReturnType<typeof testKeys>["signer"]): AuditRecord {
  const last = chain.at(-1)!;
  const sig = signer.sign(checkpointMessage(last.chain, last.seq, last.hash));
  return seal(
    { v: 1, kind: "checkpoint", id: "cp", time: last.time, checkpoint: { covers: last.seq, head: last.hash, keyId: signer.keyId, alg: "Ed25519", sig } },
    { chain: last.chain, seq: last.seq, hash: last.hash },
  ).record;
}

function verify(records: AuditRecord[], keys: ReturnType<typeof testKeys>["keys"], requireSigned = false) {
  const v = new ChainVerifier(keys, {}, requireSigned);
  for (const r of records) if (!v.push(r)) break;
  return v.report();
}

describe("verification", () => {
  const { signer, keys } = testKeys();
  const intact = (): AuditRecord[] => {
    const chain = sealedChain(10);
    return [...chain, checkpointAfter(chain, signer)];
  };

  it("accepts an intact, signed chain", () => {
    const report = verify(intact(), keys, true);
    expect(report.ok).toBe(true);
    expect(report.chains[0]).toMatchObject({ records: 11, checkpoints: 1, signedThrough: 11 });
    expect(formatReport(report)).toContain("OK");
  });

  it("names an edited record", () => {
    const records = intact();
    records[4] = { ...records[4]!, decision: "allow" as const, user: "mallory" };
    expect(verify(records, keys).failure).toMatchObject({ seq: 5, reason: expect.stringContaining("altered") });
  });

  it("names the record after a deleted one", () => {
    const records = intact().filter((r) => r.seq !== 6);
    expect(verify(records, keys).failure).toMatchObject({ seq: 7, reason: expect.stringContaining("records 6..6 are missing") });
  });

  it("catches a record re-hashed after editing by its broken link", () => {
    const records = intact();
    const { hash: _h, ...rest } = { ...records[2]!, user: "mallory" };
    records[2] = { ...rest, hash: recordHash(rest) } as AuditRecord;
    expect(verify(records, keys).failure).toMatchObject({ seq: 4, reason: expect.stringContaining("prev hash") });
  });

  it("rejects a forged checkpoint", () => {
    const other = testKeys();
    const chain = sealedChain(3);
    const forged = checkpointAfter(chain, other.signer);
    expect(verify([...chain, forged], keys).failure?.reason).toContain("not among the verifying keys");
    const tampered = { ...checkpointAfter(chain, signer) };
    const cp = { ...tampered.checkpoint!, sig: other.signer.sign(Buffer.from("x")) };
    const { hash: _h, ...rest } = { ...tampered, checkpoint: cp };
    expect(verify([...chain, { ...rest, hash: recordHash(rest) } as AuditRecord], keys).failure?.reason).toContain("signature is invalid");
  });

  it("reports unsigned records after the last checkpoint, and fails on them when signatures are required", () => {
    const base = intact();
    const last = base.at(-1)!;
    const tail = seal({ v: 1, kind: "call", id: "late", time: last.time }, { chain: last.chain, seq: last.seq, hash: last.hash }).record;
    expect(verify([...base, tail], keys).warnings[0]).toContain("12..12 are not covered");
    expect(verify([...base, tail], keys, true).ok).toBe(false);
  });
});

describe("the record encoder the flusher seals with", () => {
  it.each<[string, Record<string, unknown>]>([
    ["a call record", sealedChain(1)[0]! as unknown as Record<string, unknown>],
    ["escapes and nesting", { v: 1, kind: "call", id: 'a"b\\c\n', name: "\u2028x\ud83d\ude00", arguments: { z: [1, { b: 2, a: "\u0000" }], a: null }, timings: { total: 1, audit: 2 } }],
    ["an unknown member, encoded generically", { v: 1, kind: "call", id: "x", extra: { b: 1, a: 2 } }],
    ["undefined members", { v: 1, kind: "admin", id: "x", tenant: undefined, admin: { who: "cli", what: [], before: null, after: "h" } }],
    ["counted tokens and a price, one side uncounted", { v: 1, kind: "call", id: "x", method: "tools/call", tokens: { in: undefined, out: 812 }, cost: { usd: 0.0125 } }],
    ["a notification's record", { v: 1, kind: "call", id: "x", method: "notifications/cancelled", decision: "pass", outcome: { httpStatus: 202, status: "ok" }, timings: { total: 90, forward: 12 } }],
  ])("writes exactly the canonical encoding of %s", (_label, record) => {
    const { hash: _hash, ...rest } = record;
    expect(canonicalRecordJson(record)).toBe(canonicalJson(rest));
  });
});
