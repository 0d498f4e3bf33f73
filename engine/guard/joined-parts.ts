/**
 * Values cut across the parts of one message. A model reads a message's content parts as one
 * text, so `["my ssn is 123-45-", "6789"]` tells it the whole number while neither part holds
 * one. Each run of parts is also scanned joined (with nothing between them, the reading that
 * rebuilds the most), and a match that crosses parts is spread back onto the pieces it covers
 * in each part, so redaction replaces every piece and findings name every part involved.
 */
import type { LeafMatches, Scanner, TextMatch } from "./scan.js";
import type { PathSegment } from "./walk.js";

/** Texts at their paths that a model reads as one, in order. */
export type PartRun = ReadonlyArray<{ readonly path: readonly PathSegment[]; readonly text: string }>;

/** The text of each run of parts, joined; `runs` index into `texts`. */
export function joinRuns(texts: readonly string[], runs: readonly (readonly number[])[]): string[] {
  return runs.map((run) => run.map((i) => texts[i]!).join(""));
}

/**
 * Adds to `matches` (per text, mutated) the pieces of every match in a joined run that the
 * parts' own scans do not already cover. That is not only a match crossing a part edge: a
 * neighbour can also change what lies wholly inside a part (a digit run that fails a card's
 * check alone splits into a valid card once joined), so every match of the joined text counts.
 */
export function spreadRunMatches(
  texts: readonly string[],
  runs: readonly (readonly number[])[],
  runMatches: ReadonlyArray<readonly TextMatch[] | undefined>,
  matches: Array<readonly TextMatch[] | undefined>,
): void {
  runs.forEach((run, r) => {
    const found = runMatches[r];
    if (found === undefined || found.length === 0) return;
    const starts: number[] = [];
    let at = 0;
    for (const i of run) {
      starts.push(at);
      at += texts[i]!.length;
    }
    for (const m of found) {
      const covered = run.flatMap((i, k) => {
        const start = starts[k]!;
        const end = start + texts[i]!.length;
        return end > start && m.start < end && m.end > start ? [{ i, start: Math.max(m.start, start) - start, end: Math.min(m.end, end) - start }] : [];
      });
      for (const piece of covered) {
        const own = matches[piece.i] ?? [];
        if (own.some((o) => o.pattern === m.pattern && o.start <= piece.start && o.end >= piece.end)) continue;
        matches[piece.i] = [...own, { pattern: m.pattern, start: piece.start, end: piece.end }].sort((a, b) => a.start - b.start || a.end - b.end);
      }
    }
  });
}

/**
 * The matches of each run's joined text, spread onto the parts as leaves (merged with the
 * value's own scan by mergeLeaves). Scanned inline: runs are a message's text blocks.
 */
export function runLeaves(scanner: Scanner, runs: readonly PartRun[]): LeafMatches[] {
  if (runs.length === 0) return [];
  const parts = runs.flat();
  const texts = parts.map((p) => p.text);
  let at = 0;
  const indices = runs.map((run) => run.map(() => at++));
  const matches: Array<readonly TextMatch[] | undefined> = [];
  spreadRunMatches(texts, indices, scanner.scanLeaves(joinRuns(texts, indices)), matches);
  return parts.flatMap((p, i) => (matches[i] === undefined ? [] : [{ path: p.path, matches: matches[i] }]));
}

/** Two scans' leaves of one value as one list: a path once, its matches in order, none twice. */
export function mergeLeaves(a: readonly LeafMatches[], b: readonly LeafMatches[]): LeafMatches[] {
  if (b.length === 0) return [...a];
  const byPath = new Map<string, LeafMatches>();
  for (const leaf of [...a, ...b]) {
    const key = JSON.stringify(leaf.path);
    const seen = byPath.get(key);
    if (seen === undefined) {
      byPath.set(key, leaf);
      continue;
    }
    const extra = leaf.matches.filter((m) => !seen.matches.some((s) => s.pattern === m.pattern && s.start === m.start && s.end === m.end));
    byPath.set(key, { path: seen.path, matches: [...seen.matches, ...extra].sort((x, y) => x.start - y.start || x.end - y.end) });
  }
  return [...byPath.values()];
}
