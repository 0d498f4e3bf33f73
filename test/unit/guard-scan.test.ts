import { describe, expect, it } from "vitest";
import { compileGuard } from "../../engine/guard/compile-guard.js";
import { toFindings } from "../../engine/guard/findings.js";
import { normalizeForScan, originalRange } from "../../engine/guard/normalize.js";
import { redactLeaves, redactText } from "../../engine/guard/redact.js";
import { ScanPool } from "../../engine/guard/scan-pool.js";
import { Scanner, type ScanPattern } from "../../engine/guard/scan.js";
import { formatPath, walkStrings } from "../../engine/guard/walk.js";
import { guardCorpus } from "../cases/guard-cases.js";

const custom = (id: string, source: string, extra: Partial<ScanPattern> = {}): ScanPattern => ({ id, label: id.toUpperCase(), action: "redact", source, group: false, exact: false, ...extra });

describe("normalization", () => {
  it.each([
    ["plain ASCII is the text itself", "abc 123", "abc 123", true],
    ["ASCII control characters too: no step changes them", "a\u0000b\u007Fc\u001B", "a\u0000b\u007Fc\u001B", true],
    ["a lone surrogate is not ASCII", "a\uD800b", "a\uD800b", false],
    ["zero-width and bidi characters are dropped", "1\u200B2\u202E3\uFEFF", "123", false],
    ["full-width forms fold to ASCII", "ＡＢＣ１２３＠", "ABC123@", false],
    ["other decimal digits become ASCII digits", "٣٤ ۵۶ ३४", "34 56 34", false],
    ["dashes and spaces fold", "a‒b—c\u00A0d", "a-b-c d", false],
    ["look-alike letters fold and keep their case", "\u0410KI\u0430", "AKIa", false],
    ["a base letter with a combining mark composes", "e\u0301", "é", false],
  ])("%s", (_what, input, text, identity) => {
    const n = normalizeForScan(input);
    expect(n.text).toBe(text);
    expect(n.identity).toBe(identity);
  });

  it("maps a range of the normalized text back to the original, invisible characters included", () => {
    const input = "ssn ١٢٣\u200B-45-6789!";
    const n = normalizeForScan(input);
    const start = n.text.indexOf("123");
    const [os, oe] = originalRange(n, start, start + "123-45-6789".length);
    expect(input.slice(os, oe)).toBe("١٢٣\u200B-45-6789");
  });
});

describe("scanning a JSON value", () => {
  const guard = compileGuard({ builtins: ["us-ssn", "email"] })!;

  it("finds matches in every string leaf, nested in objects and arrays, with paths; keys are not scanned", () => {
    const value = { "123-45-6789": "key only", user: { emails: ["a@example.com", "none"], ssn: "078-05-1120" }, n: 5 };
    const findings = toFindings("arguments", guard.scanner.scanValue(value), guard.spec.patterns);
    expect(findings).toEqual([
      { id: "email", label: "EMAIL", action: "redact", path: "arguments.user.emails[0]", start: 0, end: 13 },
      { id: "us-ssn", label: "SSN", action: "redact", path: "arguments.user.ssn", start: 0, end: 11 },
    ]);
  });

  it("a number leaf is scanned as its decimal text: a card number sent as a JSON number is found", () => {
    const cards = compileGuard({ builtins: ["payment-card", "us-ssn"] })!;
    const value = JSON.parse('{"card": 4111111111111111, "amount": 12.5, "list": [0, 5555555555554444], "ok": true, "none": null}') as unknown;
    const findings = toFindings("arguments", cards.scanner.scanValue(value), cards.spec.patterns);
    expect(findings.map((f) => [f.id, f.path])).toEqual([
      ["payment-card", "arguments.card"],
      ["payment-card", "arguments.list[1]"],
    ]);
  });

  it("a fraction is not scanned, though its digits can pass a card's checks as text", () => {
    const cards = compileGuard({ builtins: ["payment-card"] })!;
    expect(cards.scanner.scanText("0.5482993035531534")).toHaveLength(1);
    expect(cards.scanner.scanValue({ probability: 0.5482993035531534, logprob: -2.5482993035531534 })).toEqual([]);
  });

  it("numbers can be left out: an LLM answer's numbers are the provider's metadata", () => {
    const cards = compileGuard({ builtins: ["payment-card"] })!;
    expect(cards.scanner.scanValue({ index: 4111111111111111, text: "4111 1111 1111 1111" }, false).map((l) => l.path)).toEqual([["text"]]);
  });

  it("findings carry no matched value", () => {
    const findings = toFindings("arguments", guard.scanner.scanValue({ s: "ssn 078-05-1120" }), guard.spec.patterns);
    expect(JSON.stringify(findings)).not.toContain("078");
  });

  it("a nesting deeper than the stack is scanned all the way down", () => {
    let value: unknown = "ssn 078-05-1120";
    for (let i = 0; i < 20_000; i++) value = [value];
    const leaves = guard.scanner.scanValue(value);
    expect(leaves).toHaveLength(1);
    expect(leaves[0]!.path).toHaveLength(20_000);
  });

  it("quotes keys that are not identifiers in paths", () => {
    expect(formatPath("arguments", ["a", 0, "x-y", "ok"])).toBe('arguments.a[0]["x-y"].ok');
  });

  it("finds the same as scanning each leaf alone, across thousands of leaves", () => {
    const all = compileGuard({ builtins: ["*"] })!;
    const value = guardCorpus(256 * 1024, 3);
    const texts: string[] = [];
    walkStrings(value, (t) => texts.push(t));
    const joined = all.scanner.scanLeaves(texts);
    const alone = texts.map((t) => all.scanner.scanText(t));
    expect(joined).toEqual(alone);
    expect(joined.flat().length).toBeGreaterThan(50);
  });
});

describe("joining leaves never changes what a pattern finds", () => {
  it.each([
    ["an anchored custom pattern holds only at the start and end of a leaf", custom("exact", "^secret$"), ["secret", "a secret", "line\nsecret", "secret"], [1, 0, 0, 1]],
    ["a custom pattern that would match across two leaves does not", custom("pair", "foo\\s+bar"), ["x foo", "bar y", "foo bar"], [0, 0, 1]],
    ["\\A anchors a leaf", custom("start", "\\Aid-\\d+"), ["id-1", "x id-2", "id-3"], [1, 0, 1]],
  ])("%s", (_what, pattern, texts, counts) => {
    const scanner = new Scanner({ patterns: [pattern] });
    expect(scanner.scanLeaves(texts).map((m) => m.length)).toEqual(counts);
  });

  it("a private key whose END line is in the next leaf is still reported in its own leaf", () => {
    const guard = compileGuard({ builtins: ["pem-private-key"] })!;
    const leaves = ["-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun", "-----END RSA PRIVATE KEY-----"];
    const found = guard.scanner.scanLeaves(leaves);
    expect(found[0]).toHaveLength(1);
    expect(found[0]![0]).toMatchObject({ start: 0, end: leaves[0]!.length });
    expect(found[1]).toEqual([]);
  });

  it("an empty-matching pattern finds nothing and does not loop", () => {
    const scanner = new Scanner({ patterns: [custom("empty", "x*")] });
    expect(scanner.scanText("aaa")).toEqual([]);
    expect(scanner.scanText("axxa")).toEqual([{ pattern: 0, start: 1, end: 3 }]);
  });

  it("offsets are UTF-16 offsets of the original string around non-ASCII text", () => {
    const guard = compileGuard({ builtins: ["email"] })!;
    const text = "日本語 😀 bob@example.com ünd é";
    const [m] = guard.scanner.scanText(text);
    expect(text.slice(m!.start, m!.end)).toBe("bob@example.com");
  });
});

describe("redaction", () => {
  it("replaces each match with its typed placeholder and merges overlaps", () => {
    const labels = ["SSN", "SECRET"];
    const text = "a 123-45-6789 b XYZ";
    expect(redactText(text, [{ pattern: 0, start: 2, end: 13 }, { pattern: 1, start: 16, end: 19 }], (p) => labels[p]!)).toBe("a [REDACTED:SSN] b [REDACTED:SECRET]");
    expect(redactText("abcdef", [{ pattern: 1, start: 0, end: 4 }, { pattern: 0, start: 2, end: 6 }], (p) => labels[p]!)).toBe("[REDACTED:SECRET]");
  });

  it("rewrites leaves in place and only for the selected patterns", () => {
    const guard = compileGuard({ builtins: [{ id: "us-ssn", action: "redact" }, { id: "email", action: "alert" }] })!;
    const value = { a: "078-05-1120 and x@example.com", list: ["078-05-1120"] };
    const leaves = guard.scanner.scanValue(value);
    const patterns = guard.spec.patterns;
    expect(redactLeaves(value, leaves, (p) => patterns[p]!.action === "redact", (p) => patterns[p]!.label)).toEqual([value, 2]);
    expect(value).toEqual({ a: "[REDACTED:SSN] and x@example.com", list: ["[REDACTED:SSN]"] });
  });

  it("a key named __proto__ is redacted as data, not sent to the prototype setter", () => {
    const guard = compileGuard({ builtins: ["us-ssn"] })!;
    const value = JSON.parse('{"__proto__": "ssn 078-05-1120", "constructor": {"prototype": "078-05-1120"}}') as Record<string, unknown>;
    const [root] = redactLeaves(value, guard.scanner.scanValue(value), () => true, () => "SSN");
    expect(JSON.stringify(root)).toBe('{"__proto__":"ssn [REDACTED:SSN]","constructor":{"prototype":"[REDACTED:SSN]"}}');
  });

  it("a number leaf is redacted to its placeholder, a string; numbers without findings stay numbers", () => {
    const cards = compileGuard({ builtins: ["payment-card"] })!;
    const value = { card: 4111111111111111, qty: 3, nested: [{ pan: 378282246310005 }] };
    const leaves = cards.scanner.scanValue(value);
    expect(redactLeaves(value, leaves, () => true, () => "CARD")[1]).toBe(2);
    expect(value).toEqual({ card: "[REDACTED:CARD]", qty: 3, nested: [{ pan: "[REDACTED:CARD]" }] });
  });

  it("a root that is itself a string comes back redacted", () => {
    const guard = compileGuard({ builtins: ["us-ssn"] })!;
    expect(redactLeaves("078-05-1120", guard.scanner.scanValue("078-05-1120"), () => true, () => "SSN")).toEqual(["[REDACTED:SSN]", 1]);
  });
});

describe("the worker pool", () => {
  it("finds and counts exactly what the main thread does", async () => {
    const guard = compileGuard({ builtins: ["*"] })!;
    const args = guardCorpus(96 * 1024, 5);
    const pool = new ScanPool(1);
    pool.publish(new Map([["k", guard.spec]]));
    try {
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "t", arguments: args } });
      const result = await pool.run({ specKey: "k", spec: guard.spec, json: body, pick: ["params", "arguments"], tokens: "o200k_base" });
      expect(result.leaves).toEqual(guard.scanner.scanValue(args));
      expect(result.tokens).toBeGreaterThan(10_000);
      expect(pool.completed).toBe(1);
      expect(pool.specsPosted).toBe(0);
    } finally {
      await pool.close();
    }
  });
});
