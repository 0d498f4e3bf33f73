/**
 * Redaction: matched spans become typed placeholders (`[REDACTED:SSN]`). Spans come from the
 * scanner in offsets of the original string, so the placeholder also covers any invisible
 * characters an obfuscated value carried. Overlapping spans (a JWT that also looks like a
 * secret) merge into one placeholder, named after the span that starts first.
 */
import type { LeafMatches, TextMatch } from "./scan.js";
import { replaceAt } from "./walk.js";

export const placeholder = (label: string): string => `[REDACTED:${label}]`;

/** `matches` sorted by start, as the scanner returns them. */
export function redactText(text: string, matches: readonly TextMatch[], labelOf: (pattern: number) => string): string {
  let out = "";
  let at = 0;
  for (let i = 0; i < matches.length; ) {
    const first = matches[i]!;
    let end = first.end;
    let j = i + 1;
    while (j < matches.length && matches[j]!.start < end) end = Math.max(end, matches[j++]!.end);
    out += text.slice(at, first.start) + placeholder(labelOf(first.pattern));
    at = end;
    i = j;
  }
  return out + text.slice(at);
}

/**
 * Replaces, inside `root` (mutated; the gateway owns the objects it parsed), every leaf's
 * matches that `include` selects. Returns the root (a new string when the root itself was the
 * string) and how many leaves changed.
 */
export function redactLeaves(
  root: unknown,
  leaves: readonly LeafMatches[],
  include: (pattern: number) => boolean,
  labelOf: (pattern: number) => string,
): [unknown, number] {
  let changed = 0;
  let out = root;
  for (const leaf of leaves) {
    const selected = leaf.matches.filter((m) => include(m.pattern));
    if (selected.length === 0) continue;
    const leafValue = readAt(out, leaf.path);
    // A number leaf was scanned as its decimal text; redacted, it becomes a string.
    const text = typeof leafValue === "number" ? String(leafValue) : leafValue;
    if (typeof text !== "string") continue;
    out = replaceAt(out, leaf.path, redactText(text, selected, labelOf));
    changed++;
  }
  return [out, changed];
}

function readAt(root: unknown, path: LeafMatches["path"]): unknown {
  let v = root;
  for (const s of path) v = (v as Record<string | number, unknown>)[s];
  return v;
}
