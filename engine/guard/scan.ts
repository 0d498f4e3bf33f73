/**
 * Scans text and JSON values for Content Guard patterns.
 *
 * The string leaves of a value are normalized and joined with "\n" into one text, and one RE2.Set
 * holding every enabled pattern runs over it: a single linear pass says which patterns occur at
 * all. A Set call costs about a microsecond whatever the text's length, so one call per payload
 * rather than one per leaf is what makes many small leaves cheap. Positions are then found only
 * for the patterns that hit, each with its own RE2 (also linear), mapped back to their leaf and
 * confirmed by the pattern's validator. Clean payloads, the common case, cost one Set pass.
 *
 * Joining must not change what is found. The joined patterns run in multi-line mode, so `^` and
 * `$` hold at every leaf edge as they do at a lone leaf's; a built-in or keyword match is exact
 * once it lies inside one leaf (their anchors only appear as "start or non-word" boundaries,
 * which "\n" satisfies). A match that crosses a leaf edge, and every hit of a custom pattern
 * (whose `^` would also hold at a newline inside a leaf), sends the leaves involved to a scan of
 * their own with the pattern in single-line mode. Custom patterns using `\A`, `\z` or turning
 * multi-line mode off are only ever scanned leaf by leaf.
 *
 * The scanner is built from plain pattern sources (ScanSpec), so a pool worker builds its own:
 * RE2 objects are native and cannot cross threads.
 */
import RE2 from "re2";
import type { GuardAction } from "../config/types.js";
import type { PatternSpec } from "./library.js";
import { eachCandidate, leafAt } from "./candidates.js";
import { Localiser } from "./locate.js";
import { normalizeForScan, originalRange, type NormalizedText } from "./normalize.js";
import { VALIDATORS, type Validator } from "./validators.js";
import { nearestKey, pathOf, walkStrings, type PathNode, type PathSegment } from "./walk.js";

export interface ScanPattern extends PatternSpec {
  readonly action: GuardAction;
  /** Whether capture group 1 is the value (built-ins and keyword lists bound their matches). */
  readonly group: boolean;
  /** Built-ins and keyword lists: a joined-text match inside one leaf is final. */
  readonly exact: boolean;
}

export interface ScanSpec {
  readonly patterns: readonly ScanPattern[];
}

/** One match in one string, in UTF-16 offsets of the original (not normalized) string. */
export interface TextMatch {
  readonly pattern: number;
  readonly start: number;
  readonly end: number;
}

/** The matches in one string leaf of a JSON value, with the way to it. */
export interface LeafMatches {
  readonly path: readonly PathSegment[];
  readonly matches: readonly TextMatch[];
}

type RE2Set = InstanceType<typeof RE2.Set>;

const NO_MATCHES: readonly TextMatch[] = [];
const LEAF_ONLY = /\\A|\\z|\(\?[a-zA-Z]*-/;
/** Leaves are grouped into chunks of about this many characters for the Set pass (a bench choice). */
const CHUNK_CHARS = 4096;

interface Leaf {
  readonly norm: NormalizedText;
  readonly key: string | undefined;
}

export class Scanner {
  readonly patterns: readonly ScanPattern[];
  private readonly joinedSet: RE2Set | undefined;
  /** Set index → pattern index. */
  private readonly joinedIds: readonly number[];
  private readonly localiser: Localiser;
  private readonly leafOnly: readonly number[];
  private readonly multiLine: readonly RE2[];
  private readonly singleLine: readonly RE2[];
  private readonly validators: readonly (Validator | undefined)[];

  constructor(spec: ScanSpec) {
    this.patterns = spec.patterns;
    const flags = (p: ScanPattern, base: string) => base + (p.group ? "d" : "");
    this.multiLine = spec.patterns.map((p) => new RE2(p.source, flags(p, "gm")));
    this.singleLine = spec.patterns.map((p) => new RE2(p.source, flags(p, "g")));
    this.validators = spec.patterns.map((p) => (p.validator === undefined ? undefined : VALIDATORS[p.validator]));
    const ids = spec.patterns.map((_, i) => i);
    this.leafOnly = ids.filter((i) => !spec.patterns[i]!.exact && LEAF_ONLY.test(spec.patterns[i]!.source));
    this.joinedIds = ids.filter((i) => !this.leafOnly.includes(i));
    this.joinedSet = this.joinedIds.length === 0 ? undefined : new RE2.Set(this.joinedIds.map((i) => spec.patterns[i]!.source), "m");
    this.localiser = new Localiser(spec.patterns, this.joinedIds);
  }

  /** Matches in one string; `key` is the JSON key it sits under, context for some validators. */
  scanText(text: string, key?: string): readonly TextMatch[] {
    return this.scanLeaves([text], [key])[0]!;
  }

  /**
   * Matches in every string and integer leaf of a JSON value, leaves in document order. Without
   * `numbers` only strings are scanned (an LLM answer's numbers are its own metadata, never text).
   */
  scanValue(value: unknown, numbers = true): LeafMatches[] {
    const texts: string[] = [];
    const nodes: (PathNode | undefined)[] = [];
    walkStrings(
      value,
      (text, node) => {
        texts.push(text);
        nodes.push(node);
      },
      numbers,
    );
    const found = this.scanLeaves(texts, nodes.map(nearestKey));
    const out: LeafMatches[] = [];
    found.forEach((matches, i) => {
      if (matches.length > 0) out.push({ path: pathOf(nodes[i]), matches });
    });
    return out;
  }

  scanLeaves(texts: readonly string[], keys: readonly (string | undefined)[] = []): (readonly TextMatch[])[] {
    const found: TextMatch[][] = [];
    const leaves: Leaf[] = texts.map((t, i) => ({ norm: normalizeForScan(t), key: keys[i] }));
    const rescan = new Map<number, Set<number>>();
    if (this.joinedSet !== undefined && texts.length > 0) {
      const starts = new Int32Array(leaves.length + 1);
      let at = 0;
      leaves.forEach((leaf, i) => {
        starts[i] = at;
        at += leaf.norm.text.length + 1;
      });
      starts[leaves.length] = at;
      const text = leaves.map((l) => l.norm.text).join("\n");
      // Text that normalization left as it was is ASCII (normalize.ts): its UTF-8 is its Latin-1,
      // which V8 copies out instead of encoding.
      const ascii = leaves.every((l) => l.norm.identity);
      const buf = Buffer.from(text, ascii ? "latin1" : "utf8");
      // The Set runs over chunks of whole leaves, so the patterns that hit are then run only over
      // the chunks they hit, not over the whole payload once each.
      let first = 0;
      let firstByte = 0;
      while (first < leaves.length) {
        let last = first;
        while (last + 1 < leaves.length && starts[last + 2]! - starts[first]! <= CHUNK_CHARS) last++;
        const from = starts[first]!;
        const to = starts[last + 1]! - 1;
        const chunkText = text.slice(from, to);
        const toByte = ascii ? to : firstByte + Buffer.byteLength(chunkText, "utf8");
        const chunk = buf.subarray(ascii ? from : firstByte, toByte);
        const hit = this.hits(this.joinedSet, chunk, this.joinedIds);
        const regions = this.localiser.regions(chunk, hit);
        for (const p of hit) this.joinedPass(p, chunkText, chunk, from, starts, leaves, found, rescan, regions?.get(p));
        first = last + 1;
        firstByte = toByte + 1;
      }
    }
    for (const p of this.leafOnly) rescan.set(p, new Set(leaves.map((_, i) => i)));
    for (const [p, indexes] of rescan) {
      for (const i of indexes) {
        found[i] = (found[i] ?? []).filter((m) => m.pattern !== p);
        this.leafPass(p, leaves[i]!, (found[i] ??= []));
      }
    }
    return texts.map((_, i) => {
      const list = found[i];
      if (list === undefined || list.length === 0) return NO_MATCHES;
      return list.sort((a, b) => a.start - b.start || a.pattern - b.pattern);
    });
  }

  /** One hit pattern over a chunk of the joined text that starts at joined offset `base`. */
  private joinedPass(p: number, text: string, buf: Buffer, base: number, starts: Int32Array, leaves: Leaf[], found: TextMatch[][], rescan: Map<number, Set<number>>, regions: readonly number[] | undefined): void {
    const pattern = this.patterns[p]!;
    const validate = this.validators[p];
    eachCandidate(this.multiLine[p]!, pattern.group, buf, text, (cs, ce) => {
      const s = cs + base;
      const e = ce + base;
      const i = leafAt(starts, s);
      const ls = starts[i]!;
      const le = starts[i + 1]! - 1;
      if (e > le || !pattern.exact) {
        const last = leafAt(starts, Math.max(s, e - 1));
        const set = rescan.get(p) ?? new Set<number>();
        for (let k = i; k <= last; k++) set.add(k);
        rescan.set(p, set);
        return Math.max(e, le + 1) - base;
      }
      const leaf = leaves[i]!;
      const end = validate === undefined ? e - ls : validate(leaf.norm.text, s - ls, e - ls, leaf.key);
      if (end < 0) return pattern.retryInside === true ? cs + 1 : ce;
      const [os, oe] = originalRange(leaf.norm, s - ls, end);
      (found[i] ??= []).push({ pattern: p, start: os, end: oe });
      return ls + end - base;
    }, regions);
  }

  private leafPass(p: number, leaf: Leaf, into: TextMatch[]): void {
    const pattern = this.patterns[p]!;
    const validate = this.validators[p];
    const text = leaf.norm.text;
    eachCandidate(this.singleLine[p]!, pattern.group, Buffer.from(text, "utf8"), text, (s, e) => {
      const end = validate === undefined ? e : validate(text, s, e, leaf.key);
      if (end < 0) return pattern.retryInside === true ? s + 1 : e;
      const [os, oe] = originalRange(leaf.norm, s, end);
      into.push({ pattern: p, start: os, end: oe });
      return end;
    });
  }

  private hits(set: RE2Set, buf: Buffer, ids: readonly number[]): number[] {
    try {
      return set.match(buf).map((s: number) => ids[s]!);
    } catch {
      // RE2.Set has no NFA fallback: when its DFA runs out of memory on a pathological input,
      // ask each pattern on its own (RE2 falls back to its NFA, still linear).
      return ids.filter((p) => {
        const re = this.multiLine[p]!;
        re.lastIndex = 0;
        return re.test(buf);
      });
    }
  }
}
