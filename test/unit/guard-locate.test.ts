/**
 * Localised scanning of long strings (engine/guard/locate.ts) must find exactly what a full pass
 * of each pattern finds. The reference here is a scanner per pattern: one pattern alone is never
 * localised, so it always makes a full pass.
 */
import { describe, expect, it } from "vitest";
import { compileGuard } from "../../engine/guard/compile-guard.js";
import { BUILTIN_PATTERNS } from "../../engine/guard/library.js";
import { LOCATE_MIN_BYTES, OVERLAP_BYTES, STEP_BYTES } from "../../engine/guard/locate.js";
import { maxMatchBytes } from "../../engine/guard/match-length.js";
import { normalizeForScan } from "../../engine/guard/normalize.js";
import { Scanner, type TextMatch } from "../../engine/guard/scan.js";
import { BUILTIN_CASES, guardCorpus, prng } from "../cases/guard-cases.js";

const guard = compileGuard({
  builtins: BUILTIN_PATTERNS.map((p) => p.id),
  patterns: [{ id: "codename", keywords: ["falcon", "blue harbor"], action: "deny" }],
})!;
const singles = guard.spec.patterns.map((p) => new Scanner({ patterns: [p] }));

/** Every pattern's matches from its own full pass, in the order the scanner reports them. */
function reference(text: string): TextMatch[] {
  const all = singles.flatMap((s, p) => s.scanText(text).map((m) => ({ ...m, pattern: p })));
  return all.sort((a, b) => a.start - b.start || a.pattern - b.pattern);
}

const VALUES = ["123-45-6789", "4111 1111 1111 1111", "(415) 555-2671", "10.0.0.1", "AKIAIOSFODNN7EXAMPLE", "+14155552671", "DE89 3704 0044 0532 0130 00", "2001:db8::ff00:42:8329", "falcon", "alice@example.com", "078-05-1120"];

describe("localised scanning of one long string", () => {
  it("the corpus string is long enough to be localised, and finds what full passes find", () => {
    const text = JSON.stringify(guardCorpus(64 * 1024));
    expect(Buffer.byteLength(text)).toBeGreaterThan(LOCATE_MIN_BYTES);
    const found = guard.scanner.scanText(text);
    expect(found.length).toBeGreaterThan(10);
    expect(found).toEqual(reference(text));
  });

  it("values straddling every window step and every overlap end are found, none twice", () => {
    const filler = "lorem ipsum dolor sit amet ".repeat(2000).slice(0, 40 * 1024);
    for (const value of VALUES) {
      for (const edge of [STEP_BYTES, 3 * STEP_BYTES, 5 * STEP_BYTES + OVERLAP_BYTES]) {
        for (let d = -value.length - 2; d <= 2; d++) {
          const at = edge + d;
          // A second value in the next window, so two localisable patterns hit.
          const text = `${filler.slice(0, at)} ${value} ${filler.slice(at, at + 3000)} 987-65-4320 ${filler.slice(at + 3000)}`;
          expect(guard.scanner.scanText(text), `${value} at ${at}`).toEqual(reference(text));
        }
      }
    }
  });

  it("multi-byte characters around window edges keep offsets exact", () => {
    const rand = prng(7);
    const pieces = ["é", "ü", "中文", "😀", "١٢٣-٤٥-٦٧٨٩", "４１１１ １１１１ １１１１ １１１１", "\u200B", " ", "word", "-", "1", "."];
    for (let round = 0; round < 6; round++) {
      let text = "";
      while (Buffer.byteLength(text) < 24 * 1024) {
        text += rand() < 0.02 ? ` ${VALUES[Math.floor(rand() * VALUES.length)]} ` : pieces[Math.floor(rand() * pieces.length)]!;
      }
      expect(normalizeForScan(text).identity).toBe(false);
      expect(guard.scanner.scanText(text), `round ${round}`).toEqual(reference(text));
    }
  });

  it("dense look-alikes, near misses and rejected candidates find what full passes find", () => {
    // Digits, separators and letters in runs that make many candidates fail their checks
    // (Luhn, SSN rules, IBAN checksums) and resume inside or after them.
    const rand = prng(11);
    const alphabet = "0123456789  --..()+:@abcDEFXYZ_/";
    for (let round = 0; round < 8; round++) {
      let text = "";
      while (text.length < 20 * 1024) {
        text += rand() < 0.01 ? VALUES[Math.floor(rand() * VALUES.length)] : alphabet[Math.floor(rand() * alphabet.length)];
      }
      expect(guard.scanner.scanText(text), `round ${round}`).toEqual(reference(text));
    }
  });

  it("every built-in case inside a long string is found as on its own", () => {
    const filler = "status ok ".repeat(3000);
    for (const [id, cases] of Object.entries(BUILTIN_CASES)) {
      for (const c of [...cases.positives, ...cases.negatives, ...cases.obfuscated]) {
        const text = `${filler} ${c.text} ${filler} 123-45-6789 ${filler}`;
        expect(guard.scanner.scanText(text), `${id}: ${c.text}`).toEqual(reference(text));
      }
    }
  });
});

describe("the longest match of a pattern", () => {
  it.each([
    ["a literal", "abc", 12],
    ["a bounded repetition", "a{2,5}", 20],
    ["an exact repetition of a group", "(?:ab){3}", 24],
    ["alternatives take the longest", "a|bcd|ef", 12],
    ["anchors and word boundaries take no room", "^\\bab\\b$", 8],
    ["flag groups take no room", "(?i)ab(?-i:c)", 12],
    ["a class is one character, whatever it holds", "[]a\\]b[:alpha:]-]x", 8],
    ["an escape is one character", "\\d\\x41\\x{263a}\\pL\\p{Greek}\\.", 24],
    ["quoted text counts each character", "\\Qa.b\\E", 12],
    ["lazy is no longer than greedy", "a{1,3}?b??", 16],
    ["a brace that is not a repetition is a character", "a{,2}", 20],
    ["named groups", "(?P<x>ab)(?<y>c)", 12],
  ])("%s: %s", (_what, source, bytes) => {
    expect(maxMatchBytes(source)).toBe(bytes);
  });

  it.each([
    ["star", "ab*"],
    ["plus", "a+"],
    ["open repetition", "a{2,}"],
    ["a repeated group", "(?:ab)+c"],
    ["\\B, which a window's edge can falsify", "a\\Bb"],
    ["an unbalanced parenthesis", "a)b"],
    ["an unknown group", "(?=a)"],
  ])("%s is not bounded: %s", (_what, source) => {
    expect(maxMatchBytes(source)).toBeUndefined();
  });

  it("is never shorter than a real match of a built-in", () => {
    for (const b of BUILTIN_PATTERNS) {
      const max = maxMatchBytes(b.source);
      if (max === undefined) continue;
      const scanner = new Scanner({ patterns: [{ ...b, action: "redact", group: true, exact: true }] });
      for (const c of BUILTIN_CASES[b.id]!.positives) {
        for (const m of scanner.scanText(c.text)) expect(Buffer.byteLength(c.text.slice(m.start, m.end)), `${b.id}: ${c.text}`).toBeLessThanOrEqual(max);
      }
    }
  });
});
