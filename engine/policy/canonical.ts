/**
 * How names and compared values are canonicalised before policy sees them.
 *
 * A rule written for `repo.delete` must also catch `Repo.Delete`, `repo.delete ` (trailing
 * space), `repo.de\u200Blete` (zero-width space), `ｒｅｐｏ.delete` (full-width) and
 * `repo.dеlete` (Cyrillic е). The steps, in this order:
 *  1. remove zero-width, bidi-control and other invisible format characters, which render as
 *     nothing and would otherwise make two identical-looking names differ;
 *  2. Unicode NFKC, which folds compatibility forms (full-width, ligatures, mathematical
 *     alphanumerics, superscripts) to their plain letters;
 *  3. lower-case (after NFKC, because NFKC can produce upper-case letters);
 *  4. map confusable look-alikes from Cyrillic, Greek, Armenian and Latin extensions to the
 *     ASCII letter they imitate (after lower-casing, so one table serves both cases);
 *  5. trim surrounding white space and fold inner runs of white space to one ASCII space.
 * The upstream still receives the name the caller sent; only the policy decision uses this form.
 */

// Invisible characters: soft hyphen, combining grapheme joiner, Arabic letter mark, Hangul
// fillers, zero-width space/joiners, LRM/RLM, bidi embeddings/overrides/isolates, word joiner
// and invisible operators, BOM, interlinear annotation marks, Mongolian vowel separator,
// variation selectors and tag characters.
export const INVISIBLE =
  // eslint-disable-next-line no-misleading-character-class -- each code point is removed on its own, combining or not
  /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF9-\uFFFB]|\uDB40[\uDC00-\uDDEF]/g;

const WHITESPACE_RUN = /\s+/g;

// Look-alikes of ASCII letters and digits, lower-case forms (the input is lower-cased first).
export const CONFUSABLES: Readonly<Record<string, string>> = {
  // Cyrillic
  "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
  "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d",
  "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ց": "g", "ո": "n", "ս": "u", "օ": "o", "ɡ": "g",
  "ʏ": "y", "ᴠ": "v", "ᴡ": "w", "ᴢ": "z", "ь": "b", "г": "r", "п": "n", "ԍ": "g", "ɩ": "i",
  // Greek
  "α": "a", "β": "b", "γ": "y", "ε": "e", "ζ": "z", "η": "n", "ι": "i", "κ": "k", "ν": "v",
  "ο": "o", "ρ": "p", "σ": "o", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
  // Latin extensions and symbols NFKC leaves alone
  "ı": "i", "ȷ": "j", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŀ": "l", "ƅ": "b", "ɑ": "a",
  "ɢ": "g", "ʜ": "h", "ɪ": "i", "ʟ": "l", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s",
  "ᴛ": "t", "ᴜ": "u", "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ᴊ": "j",
  "ᴋ": "k", "ᴍ": "m", "ǀ": "l", "∣": "l", "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-",
  "−": "-", "․": ".", "‧": ".", "·": ".", "ˑ": ".", "٠": "0", "۰": "0", "߀": "0",
};
const CONFUSABLE_CHARS = new RegExp(`[${Object.keys(CONFUSABLES).join("").replace(/[-\]\\^]/g, "\\$&")}]`, "gu");

// Printable ASCII without upper-case letters and without surrounding or repeated spaces is
// already canonical; most real names take this path and allocate nothing.
const PLAIN = /^(?:[!-@[-~]+(?: [!-@[-~]+)*)?$/;

export function canonicalName(input: string): string {
  if (PLAIN.test(input)) return input;
  return input
    .replace(INVISIBLE, "")
    .normalize("NFKC")
    .toLowerCase()
    .replace(CONFUSABLE_CHARS, (c) => CONFUSABLES[c] ?? c)
    .replace(WHITESPACE_RUN, " ")
    .trim();
}
