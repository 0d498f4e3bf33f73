/**
 * Glob patterns on canonical names, compiled once.
 *
 *   *       any run of characters, dots included (`stripe.*` matches `stripe.charge.create`)
 *   ?       exactly one character
 *   [abc]   one of a set; `[a-z]` ranges; `[!abc]` negation
 *   {a,b}   alternatives (not nested), expanded at compile time
 *   \x      x literally
 *
 * Matching never backtracks beyond the last `*` seen, so it costs O(name × pattern) at worst
 * whatever the pattern, unlike a regular expression built from it.
 */
import { canonicalName } from "./canonical.js";

type Token = { kind: "lit"; text: string } | { kind: "one" } | { kind: "star" } | { kind: "class"; negated: boolean; test: (c: string) => boolean };

/** What an index can know about one alternative without matching: its fixed ends. */
export interface GlobShape {
  /** The whole name when the alternative has no wildcard. */
  readonly exact: string | undefined;
  /** Literal text every match starts with ("" when it starts with a wildcard). */
  readonly prefix: string;
  /** Literal text every match ends with, after the last wildcard ("" when none). */
  readonly suffix: string;
}

export interface GlobMatcher {
  readonly source: string;
  /** The literal name when the pattern has no wildcard: lets the policy index rules by name. */
  readonly exact: string | undefined;
  /** One shape per brace alternative. */
  readonly shapes: readonly GlobShape[];
  match(name: string): boolean;
}

export class GlobSyntaxError extends Error {
  override readonly name = "GlobSyntaxError";
}

const MAX_ALTERNATIVES = 64;

export function compileGlob(pattern: string): GlobMatcher {
  const source = pattern;
  const alternatives = expandBraces(canonicalName(pattern)).map(tokenize);
  const shapes = alternatives.map(shapeOf);
  if (alternatives.length === 1 && shapes[0]!.exact !== undefined) {
    const exact = shapes[0]!.exact;
    return { source, exact, shapes, match: (name) => name === exact };
  }
  const matchers = alternatives.map(toMatcher);
  return { source, exact: undefined, shapes, match: (name) => matchers.some((m) => m(name)) };
}

function shapeOf(tokens: Token[]): GlobShape {
  const literal = (t: Token | undefined): t is { kind: "lit"; text: string } => t?.kind === "lit";
  if (tokens.every(literal)) {
    const exact = tokens.map((t) => t.text).join("");
    return { exact, prefix: exact, suffix: exact };
  }
  let prefix = "";
  for (const t of tokens) {
    if (!literal(t)) break;
    prefix += t.text;
  }
  let suffix = "";
  for (let i = tokens.length - 1; i >= 0; i--) {
    const t = tokens[i];
    if (!literal(t)) break;
    suffix = t.text + suffix;
  }
  return { exact: undefined, prefix, suffix };
}

function expandBraces(pattern: string): string[] {
  const open = findUnescaped(pattern, "{", 0);
  if (open < 0) {
    if (findUnescaped(pattern, "}", 0) >= 0) throw new GlobSyntaxError(`unbalanced "}" in "${pattern}"`);
    return [pattern];
  }
  const close = findUnescaped(pattern, "}", open);
  if (close < 0) throw new GlobSyntaxError(`unclosed "{" in "${pattern}"`);
  const inner = pattern.slice(open + 1, close);
  if (findUnescaped(inner, "{", 0) >= 0) throw new GlobSyntaxError(`nested "{" in "${pattern}"`);
  const head = pattern.slice(0, open);
  const out: string[] = [];
  for (const tail of expandBraces(pattern.slice(close + 1))) {
    for (const option of splitUnescaped(inner, ",")) {
      out.push(head + option + tail);
      if (out.length > MAX_ALTERNATIVES) throw new GlobSyntaxError(`"${pattern}" expands to more than ${MAX_ALTERNATIVES} alternatives`);
    }
  }
  return out;
}

function findUnescaped(s: string, ch: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === ch) return i;
  }
  return -1;
}

function splitUnescaped(s: string, ch: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = findUnescaped(s, ch, 0); i >= 0; i = findUnescaped(s, ch, start)) {
    parts.push(s.slice(start, i));
    start = i + 1;
  }
  parts.push(s.slice(start));
  return parts;
}

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  let lit = "";
  const flush = () => {
    if (lit !== "") tokens.push({ kind: "lit", text: lit });
    lit = "";
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      if (i + 1 >= pattern.length) throw new GlobSyntaxError(`trailing "\\" in "${pattern}"`);
      lit += pattern[++i];
    } else if (c === "*") {
      flush();
      // Consecutive stars are one star: keeps matching linear.
      if (tokens.at(-1)?.kind !== "star") tokens.push({ kind: "star" });
    } else if (c === "?") {
      flush();
      tokens.push({ kind: "one" });
    } else if (c === "[") {
      flush();
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) throw new GlobSyntaxError(`unclosed "[" in "${pattern}"`);
      tokens.push(compileClass(pattern.slice(i + 1, end)));
      i = end;
    } else {
      lit += c;
    }
  }
  flush();
  return tokens;
}

function compileClass(body: string): Token {
  const negated = body.startsWith("!") || body.startsWith("^");
  const chars = [...(negated ? body.slice(1) : body)];
  const singles = new Set<string>();
  const ranges: Array<[string, string]> = [];
  for (let i = 0; i < chars.length; i++) {
    if (chars[i + 1] === "-" && i + 2 < chars.length) {
      ranges.push([chars[i]!, chars[i + 2]!]);
      i += 2;
    } else {
      singles.add(chars[i]!);
    }
  }
  const test = (c: string) => singles.has(c) || ranges.some(([lo, hi]) => c >= lo && c <= hi);
  return { kind: "class", negated, test };
}

/** Greedy matcher with a single backtrack point at the last star. */
function toMatcher(tokens: Token[]): (name: string) => boolean {
  return (name) => {
    let t = 0;
    let n = 0;
    let starT = -1;
    let starN = 0;
    while (n < name.length || t < tokens.length) {
      const token = tokens[t];
      if (token !== undefined) {
        if (token.kind === "star") {
          starT = t++;
          starN = n;
          continue;
        }
        const width = step(token, name, n);
        if (width >= 0) {
          t++;
          n += width;
          continue;
        }
      }
      if (starT >= 0 && starN < name.length) {
        t = starT + 1;
        n = ++starN;
        continue;
      }
      return false;
    }
    return true;
  };
}

/** How many characters of `name` at `n` the token consumes, or -1. */
function step(token: Token, name: string, n: number): number {
  switch (token.kind) {
    case "lit":
      return name.startsWith(token.text, n) ? token.text.length : -1;
    case "one":
      return n < name.length ? 1 : -1;
    case "class":
      return n < name.length && token.test(name[n]!) !== token.negated ? 1 : -1;
    case "star":
      return 0;
  }
}
