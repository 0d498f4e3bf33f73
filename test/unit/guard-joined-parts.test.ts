/**
 * A message's content parts (LLM content parts, MCP sampling text blocks) are read by the model as one text: a match across parts is spread
 * back onto each piece, so redaction covers all of them.
 */
import { describe, expect, it } from "vitest";
import { compileGuard } from "../../engine/guard/compile-guard.js";
import { redactText } from "../../engine/guard/redact.js";
import type { TextMatch } from "../../engine/guard/scan.js";
import { samplingRuns } from "../../engine/gateway/scan-targets.js";
import { runLeaves, joinRuns, mergeLeaves, spreadRunMatches } from "../../engine/guard/joined-parts.js";

const guard = compileGuard({ builtins: ["us-ssn", "email"] })!;

/** Scans the texts and their runs joined, as llm-guard.ts does, and returns each text redacted. */
function redactWithRuns(texts: string[], runs: number[][]): string[] {
  const found = guard.scanner.scanLeaves([...texts, ...joinRuns(texts, runs)]);
  const matches: Array<readonly TextMatch[] | undefined> = found.slice(0, texts.length);
  spreadRunMatches(texts, runs, found.slice(texts.length), matches);
  return texts.map((t, i) => redactText(t, matches[i] ?? [], (p) => guard.spec.patterns[p]!.label));
}

describe("values cut across the parts of one message", () => {
  it("an SSN in two pieces is redacted in both", () => {
    expect(redactWithRuns(["my ssn is 123-45-", "6789 ok"], [[0, 1]])).toEqual(["my ssn is [REDACTED:SSN]", "[REDACTED:SSN] ok"]);
  });

  it("a value over three parts, the middle one wholly inside it, is redacted in all three", () => {
    expect(redactWithRuns(["mail jo", "@exam", "ple.com now"], [[0, 1, 2]])).toEqual(["mail [REDACTED:EMAIL]", "[REDACTED:EMAIL]", "[REDACTED:EMAIL] now"]);
  });

  it("only the parts of one run are joined: texts outside it, and other runs, keep their own", () => {
    const texts = ["ssn 123-45-", "6789", "ssn 078-05-", "1120"];
    expect(redactWithRuns(texts, [[0, 1]])).toEqual(["ssn [REDACTED:SSN]", "[REDACTED:SSN]", "ssn 078-05-", "1120"]);
  });

  it("a match inside one part is the part's own: it is not added twice", () => {
    const texts = ["ssn 078-05-1120 and", " more"];
    const found = guard.scanner.scanLeaves([...texts, ...joinRuns(texts, [[0, 1]])]);
    const matches: Array<readonly TextMatch[] | undefined> = found.slice(0, 2);
    spreadRunMatches(texts, [[0, 1]], found.slice(2), matches);
    expect(matches[0]).toHaveLength(1);
    expect(matches[1]).toEqual([]);
  });

  it("a value the joined text finds wholly inside one part is redacted too: its neighbour changed what the part holds", () => {
    const cards = compileGuard({ builtins: ["payment-card"] })!;
    // Alone, the first part ends in a 21-digit run that is no card; joined, it holds one whole card and half of another.
    const texts = ["cards: 4111 1111 1111 1111 41", "11 1111 1111 1111 ok"];
    expect(cards.scanner.scanText(texts[0]!)).toEqual([]);
    const found = cards.scanner.scanLeaves([...texts, ...joinRuns(texts, [[0, 1]])]);
    const matches: Array<readonly TextMatch[] | undefined> = found.slice(0, 2);
    spreadRunMatches(texts, [[0, 1]], found.slice(2), matches);
    expect(texts.map((t, i) => redactText(t, matches[i] ?? [], () => "CARD"))).toEqual(["cards: [REDACTED:CARD] [REDACTED:CARD]", "[REDACTED:CARD] ok"]);
  });

  it("empty parts in a run change nothing", () => {
    expect(redactWithRuns(["ssn 123-45-", "", "6789"], [[0, 1, 2]])).toEqual(["ssn [REDACTED:SSN]", "", "[REDACTED:SSN]"]);
  });
});

describe("the text blocks of a sampling message", () => {
  const params = {
    messages: [
      { role: "user", content: [{ type: "text", text: "ssn 123-45-" }, { type: "image", data: "AAAA", mimeType: "image/png" }, { type: "text", text: "6789" }] },
      { role: "user", content: { type: "text", text: "one block" } },
      { role: "user", content: [{ type: "text", text: "alone" }] },
    ],
  };

  it("runs are the messages with two or more text blocks, at their paths in params", () => {
    expect(samplingRuns(params)).toEqual([
      [
        { path: ["messages", 0, "content", 0, "text"], text: "ssn 123-45-" },
        { path: ["messages", 0, "content", 2, "text"], text: "6789" },
      ],
    ]);
  });

  it("crossing matches come back as leaves at those paths, and merge with the value's own scan without repeats", () => {
    const crossing = runLeaves(guard.scanner, samplingRuns(params));
    expect(crossing).toEqual([
      { path: ["messages", 0, "content", 0, "text"], matches: [{ pattern: 0, start: 4, end: 11 }] },
      { path: ["messages", 0, "content", 2, "text"], matches: [{ pattern: 0, start: 0, end: 4 }] },
    ]);
    const own = [{ path: ["messages", 0, "content", 2, "text"], matches: [{ pattern: 1, start: 0, end: 2 }] }];
    expect(mergeLeaves(own, [...crossing, ...crossing])).toEqual([
      { path: ["messages", 0, "content", 2, "text"], matches: [{ pattern: 1, start: 0, end: 2 }, { pattern: 0, start: 0, end: 4 }] },
      crossing[0],
    ]);
  });
});
