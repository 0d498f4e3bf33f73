/**
 * Where in a long text the patterns that hit it can match, so that each runs only there.
 *
 * A payload of many leaves is scanned in chunks of about 4 KiB, so a pattern that hits runs over
 * the chunks it hit, not over the whole payload. One long string is a single leaf and a single
 * chunk: every pattern that hits it would run over all of it, one full pass each. Instead, when
 * two or more patterns with bounded matches hit it, one more RE2.Set pass over overlapping
 * windows says which windows each of them hits, and each runs only over those.
 *
 * Why that finds exactly what a full pass finds: windows start every STEP bytes and reach
 * OVERLAP bytes into the next one, and only patterns whose matches are at most OVERLAP bytes
 * long (match-length.ts) are localised. So a match starting in a window's step lies whole inside
 * that window, and the Set reports the pattern there (a window's edges can only add matches: `^`
 * and `\b` hold at its cut start, and such patterns carry no `\B`). Every match therefore starts
 * in the step of a window that hit. Searching a region of such steps runs over the text up to
 * OVERLAP bytes past the region, with the text before it as context (RE2's start offset keeps
 * `^` and `\b` honest), and only matches that start inside the region count: each of those ends
 * before the cut, so it is the match a full pass would find there.
 */

import RE2 from "re2";
import { maxMatchBytes } from "./match-length.js";
import type { ScanPattern } from "./scan.js";

type RE2Set = InstanceType<typeof RE2.Set>;

/** Window step, in bytes (a bench choice: per-window cost against pass length). */
export const STEP_BYTES = 2048;
/** How far each window reaches into the next; patterns with longer matches are not localised. */
export const OVERLAP_BYTES = 512;
/** Texts shorter than this are not worth a second Set pass. */
export const LOCATE_MIN_BYTES = 16 * 1024;

/** Byte offset `at` moved forward to the start of a UTF-8 character. */
export function charStart(buf: Buffer, at: number): number {
  while (at < buf.length && (buf[at]! & 0xc0) === 0x80) at++;
  return Math.min(at, buf.length);
}

/**
 * For each localisable pattern (`set` holds them, `ids` maps Set index → pattern), the byte
 * ranges of `buf` where its matches can start, as flat [start, end, start, end…] lists. Undefined
 * when the Set cannot run (its DFA out of memory): the caller then scans the whole text.
 */
export function locate(set: RE2Set, ids: readonly number[], buf: Buffer): Map<number, number[]> | undefined {
  const regions = new Map<number, number[]>();
  let start = 0;
  while (start < buf.length) {
    const next = charStart(buf, start + STEP_BYTES);
    const window = buf.subarray(start, charStart(buf, next + OVERLAP_BYTES));
    let hit: number[];
    try {
      hit = set.match(window);
    } catch {
      return undefined;
    }
    for (const s of hit) {
      const p = ids[s]!;
      const list = regions.get(p);
      // Adjacent steps merge into one region.
      if (list !== undefined && list[list.length - 1] === start) list[list.length - 1] = next;
      else if (list !== undefined) list.push(start, next);
      else regions.set(p, [start, next]);
    }
    start = next;
  }
  return regions;
}

/** A scanner's localisable patterns, and where they can match in a long chunk. */
export class Localiser {
  private readonly ids: readonly number[];
  private readonly set: RE2Set | undefined;

  /** `joined`: the patterns that run over joined text; built-ins and keyword lists among them qualify. */
  constructor(patterns: readonly ScanPattern[], joined: readonly number[]) {
    this.ids = joined.filter((i) => patterns[i]!.exact && (maxMatchBytes(patterns[i]!.source) ?? Infinity) <= OVERLAP_BYTES);
    this.set = this.ids.length < 2 ? undefined : new RE2.Set(this.ids.map((i) => patterns[i]!.source), "m");
  }

  /**
   * For a long chunk hit by two or more localisable patterns, where each of them can match; one
   * more Set pass, which pays for itself from the second pattern on. Undefined: run them all over
   * the whole chunk.
   */
  regions(chunk: Buffer, hit: readonly number[]): Map<number, number[]> | undefined {
    if (this.set === undefined || chunk.length < LOCATE_MIN_BYTES) return undefined;
    let local = 0;
    for (const p of hit) if (this.ids.includes(p)) local++;
    return local < 2 ? undefined : locate(this.set, this.ids, chunk);
  }
}
