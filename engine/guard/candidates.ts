/**
 * Running one RE2 over a text and turning its matches into candidate values.
 *
 * RE2 runs over UTF-8 Buffers: with a string, node-re2 converts the whole text on every exec
 * call, which is quadratic over many matches. Offsets come back in bytes and are converted to
 * the UTF-16 offsets the rest of the gateway uses.
 */
import RE2 from "re2";
import { charStart, OVERLAP_BYTES } from "./locate.js";

/** The index of the leaf whose joined range contains offset `at`. */
export function leafAt(starts: Int32Array, at: number): number {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Runs `re` over `buf` (the UTF-8 of `text`) and calls `visit` with the UTF-16 range of each
 * value (group 1, or the whole match); `visit` returns the UTF-16 offset to resume from. Empty
 * matches find nothing and are stepped over. With `regions` (locate.ts), only matches that start
 * inside them are searched for, each region over the text up to OVERLAP_BYTES past its end.
 */
export function eachCandidate(re: RE2, group: boolean, buf: Buffer, text: string, visit: (start: number, end: number) => number, regions?: readonly number[]): void {
  const ascii = buf.length === text.length;
  let byteAt = 0;
  let unitAt = 0;
  const toUnits = (byte: number): number => {
    if (ascii) return byte;
    unitAt += byte >= byteAt ? RE2.getUtf16Length(buf.subarray(byteAt, byte)) : -RE2.getUtf16Length(buf.subarray(byte, byteAt));
    byteAt = byte;
    return unitAt;
  };
  const spans = regions ?? [0, buf.length];
  // Where the next search starts; kept apart from lastIndex, which a failed exec resets to 0.
  let at = 0;
  for (let r = 0; r < spans.length; r += 2) {
    const to = spans[r + 1]!;
    at = Math.max(at, spans[r]!);
    if (at >= to && regions !== undefined) continue;
    const view = regions === undefined ? buf : buf.subarray(0, charStart(buf, to + OVERLAP_BYTES));
    for (;;) {
      re.lastIndex = at;
      const m = re.exec(view);
      // A match starting past the region is another region's (or cut short by the view).
      if (m === null || (regions !== undefined && m.index >= to)) break;
      const span = group ? m.indices?.[1] : [m.index, m.index + m[0].length];
      if (span === undefined || span[0] === span[1]) {
        at = Math.max(re.lastIndex, m.index + utf8Length(buf[m.index]));
        continue;
      }
      const startByte = span[0]!;
      const start = toUnits(startByte);
      const end = toUnits(span[1]!);
      const resume = Math.max(visit(start, end), start + 1);
      // Resume right after the confirmed value: a boundary character the pattern consumed may be
      // the boundary of the next value (`123-45-6789,987-65-4321`).
      at = ascii ? resume : startByte + Buffer.byteLength(text.slice(start, resume), "utf8");
    }
  }
}

/** The length of the UTF-8 sequence that starts with `lead` (1 at the end of the buffer). */
function utf8Length(lead: number | undefined): number {
  if (lead === undefined || lead < 0xc0) return 1;
  return lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
}
