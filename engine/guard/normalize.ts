/**
 * Text normalization before Content Guard scanning, with a map back to the original offsets.
 *
 * Trivial obfuscation must not slip past a pattern: `123\u200B-45-6789` (zero-width space),
 * `１２３-４５-６７８９` (full-width digits), `١٢٣-٤٥-٦٧٨٩` (Arabic-Indic digits), `123‒45‒6789`
 * (figure dashes) and `АKIA…` (Cyrillic А) all scan as their plain ASCII forms. The steps, per
 * chunk of the input (a character with the combining marks that follow it):
 *  1. invisible characters (zero-width, bidi controls, variation selectors, tags) are dropped;
 *  2. Unicode NFKC folds compatibility forms (full-width, ligatures, mathematical letters);
 *  3. any other decimal digit becomes its ASCII digit, dash punctuation `-`, space separators ` `;
 *  4. Cyrillic, Greek and Latin look-alikes become the ASCII letter they imitate, keeping case.
 * Case is otherwise preserved: patterns such as `AKIA…` are case-sensitive.
 *
 * NFKC runs per chunk rather than over the whole text so that every output code unit can name
 * the original range it came from; redaction replaces that original range, so the placeholder
 * also swallows the invisible characters inside a match. Chunks cover the compositions NFKC
 * performs (base + combining marks, Hangul jamo sequences).
 */
import { CONFUSABLES, INVISIBLE } from "../policy/canonical.js";

export interface NormalizedText {
  /** The text patterns run over. */
  readonly text: string;
  /** Whether `text` is the input itself (ASCII, which no step changes): offsets need no mapping. */
  readonly identity: boolean;
  /** For each code unit of `text`, where its chunk starts and ends in the original. */
  readonly starts: Int32Array | undefined;
  readonly ends: Int32Array | undefined;
}

const OTHER = /[^\t\n\r\x20-\x7E]/g;
const INVISIBLE_AT = new RegExp(INVISIBLE.source, "y");
// Marks combine with the preceding character; Hangul medial/final jamo compose with the initial.
const CONTINUES = /^[\p{M}\u1160-\u11FF]$/u;
const DIGIT = /\p{Nd}/u;
const DASH = /[\p{Pd}\u2212]/u;
const SPACE = /\p{Zs}/u;

export function normalizeForScan(input: string): NormalizedText {
  // ASCII is the common case and nothing to normalize: no ASCII character is invisible, NFKC
  // keeps it, and none is a digit, dash, space or letter to fold. UTF-8 takes one byte per
  // character exactly when every one is ASCII (a lone surrogate takes three), and V8 answers
  // that several times faster than a regular expression over the text.
  if (Buffer.byteLength(input, "utf8") === input.length) return { text: input, identity: true, starts: undefined, ends: undefined };
  const out = new MapBuilder(input.length);
  let i = 0;
  while (i < input.length) {
    // Copy a run of plain ASCII in one step, all but its last character: that one may take
    // combining marks that follow the run.
    OTHER.lastIndex = i;
    const other = OTHER.exec(input);
    const runEnd = (other === null ? input.length : other.index) - 1;
    if (runEnd > i) {
      out.copy(input, i, runEnd);
      i = runEnd;
    }
    INVISIBLE_AT.lastIndex = i;
    if (INVISIBLE_AT.test(input)) {
      i = INVISIBLE_AT.lastIndex;
      continue;
    }
    const start = i;
    i += codePointLength(input, i);
    while (i < input.length) {
      const next = codePointLength(input, i);
      if (!CONTINUES.test(input.slice(i, i + next))) break;
      i += next;
    }
    out.add(foldChunk(input.slice(start, i)), start, i);
  }
  return out.finish();
}

/** The normalized text and its offset map, grown as NFKC expands characters. */
class MapBuilder {
  private parts: string[] = [];
  private length = 0;
  private starts: Int32Array;
  private ends: Int32Array;

  constructor(capacity: number) {
    this.starts = new Int32Array(capacity + 16);
    this.ends = new Int32Array(capacity + 16);
  }

  copy(input: string, from: number, to: number): void {
    this.reserve(to - from);
    this.parts.push(input.slice(from, to));
    for (let k = from; k < to; k++, this.length++) {
      this.starts[this.length] = k;
      this.ends[this.length] = k + 1;
    }
  }

  add(text: string, start: number, end: number): void {
    this.reserve(text.length);
    this.parts.push(text);
    this.starts.fill(start, this.length, this.length + text.length);
    this.ends.fill(end, this.length, this.length + text.length);
    this.length += text.length;
  }

  finish(): NormalizedText {
    return { text: this.parts.join(""), identity: false, starts: this.starts.subarray(0, this.length), ends: this.ends.subarray(0, this.length) };
  }

  private reserve(n: number): void {
    if (this.length + n <= this.starts.length) return;
    const size = Math.max(this.starts.length * 2, this.length + n);
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }
}

/** The original range of `[start, end)` in the normalized text. */
export function originalRange(n: NormalizedText, start: number, end: number): [number, number] {
  if (n.identity || end <= start) return [start, end];
  return [n.starts![start]!, n.ends![end - 1]!];
}

function codePointLength(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
}

function foldChunk(chunk: string): string {
  if (chunk.length === 1 && chunk.charCodeAt(0) < 0x80) return chunk;
  let folded = "";
  for (const ch of chunk.normalize("NFKC")) folded += foldChar(ch);
  return folded;
}

function foldChar(ch: string): string {
  if (ch.charCodeAt(0) < 0x80) return ch;
  if (DIGIT.test(ch)) return String(digitValue(ch.codePointAt(0)!));
  if (DASH.test(ch)) return "-";
  if (SPACE.test(ch)) return " ";
  const lower = ch.toLowerCase();
  const ascii = CONFUSABLES[lower];
  if (ascii === undefined) return ch;
  return lower === ch ? ascii : ascii.toUpperCase();
}

const zeros = new Map<number, number>();

/**
 * Unicode decimal digits come in runs of ten starting at zero, so the run start gives the value.
 * The only runs that touch each other (mathematical digits) are folded by NFKC before this.
 */
function digitValue(cp: number): number {
  let zero = zeros.get(cp);
  if (zero === undefined) {
    zero = cp;
    while (cp - zero < 9 && DIGIT.test(String.fromCodePoint(zero - 1))) zero--;
    zeros.set(cp, zero);
  }
  return cp - zero;
}
