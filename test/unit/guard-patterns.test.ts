import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compileGuard } from "../../engine/guard/compile-guard.js";
import { BUILTIN_PATTERNS } from "../../engine/guard/library.js";
import { BUILTIN_CASES, type GuardCase } from "../cases/guard-cases.js";

const README = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
const ALL = compileGuard({ builtins: BUILTIN_PATTERNS.map((p) => p.id) })!;

/** The substrings of `c.text` that pattern `id` reports, scanned with that pattern alone. */
function found(id: string, c: GuardCase): string[] {
  const guard = compileGuard({ builtins: [id] })!;
  return guard.scanner.scanText(c.text, c.key).map((m) => c.text.slice(m.start, m.end));
}

const rows = (kind: "positives" | "negatives" | "obfuscated") =>
  Object.entries(BUILTIN_CASES).flatMap(([id, cases]) => cases[kind].map((c) => [id, JSON.stringify(c.text).slice(0, 70), c] as const));

describe("the built-in pattern library", () => {
  it("has unique ids", () => {
    const ids = BUILTIN_PATTERNS.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(BUILTIN_PATTERNS.map((p) => [p.id, p] as const))("%s has positives, near misses and obfuscated variants", (id) => {
    const cases = BUILTIN_CASES[id];
    expect(cases, `test/cases/guard-cases.ts has no cases for ${id}`).toBeDefined();
    expect(cases!.positives.length).toBeGreaterThan(0);
    expect(cases!.negatives.length).toBeGreaterThan(0);
    expect(cases!.obfuscated.length).toBeGreaterThan(0);
  });

  it.each(BUILTIN_PATTERNS.map((p) => [p.id, p] as const))("%s is documented in the README with its precision", (id, p) => {
    const row = README.split("\n").find((l) => l.startsWith(`| \`${id}\` |`));
    expect(row, `README.md has no table row for \`${id}\``).toBeDefined();
    expect(row).toContain(`[REDACTED:${p.label}]`);
    expect(row).toContain(`| ${p.defaultAction} |`);
    expect(row).toContain(p.precision);
  });

  it("only generic-secret is opt-in", () => {
    expect(BUILTIN_PATTERNS.filter((p) => p.optIn === true).map((p) => p.id)).toEqual(["generic-secret"]);
  });
});

describe("true positives", () => {
  it.each(rows("positives"))("%s finds %s", (id, _text, c) => {
    expect(found(id, c)).toContain(c.value ?? c.text);
  });

  it.each(rows("positives"))("%s is still found among every built-in: %s", (id, _text, c) => {
    const ids = ALL.scanner.scanText(c.text, c.key).map((m) => ALL.spec.patterns[m.pattern]!.id);
    expect(ids).toContain(id);
  });
});

describe("near misses are not reported", () => {
  it.each(rows("negatives"))("%s ignores %s", (id, _text, c) => {
    expect(found(id, c)).toEqual([]);
  });
});

describe("obfuscated variants are still found, and the finding covers the obfuscation", () => {
  it.each(rows("obfuscated"))("%s finds %s", (id, _text, c) => {
    expect(found(id, c)).toContain(c.value ?? c.text);
  });
});
