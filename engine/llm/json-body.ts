/**
 * Reads an LLM request body: one JSON object, with no key given twice in any object.
 *
 * Parsers disagree on which of two equal keys wins (`{"model":"gpt-4o","model":"o3"}`: the
 * last here, the first in some servers), so a body with duplicates could be judged as one
 * request and served as another. The gateway forwards its own serialisation of the parsed
 * object, which already removes that ambiguity; refusing duplicates as well keeps a client
 * from ever learning which one policy saw. Keys are compared decoded, so `"mod\u0065l"` and
 * `"model"` are the same key.
 */
import { refuse, type Refusal } from "../errors.js";

export function parseJsonObject(body: string): Record<string, unknown> | Refusal {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return refuse("SENTINEL_PARSE_ERROR", `body is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return refuse("SENTINEL_INVALID_REQUEST", "the body must be a JSON object");
  const twice = duplicateKey(body);
  if (twice !== undefined) return refuse("SENTINEL_INVALID_REQUEST", `the key ${JSON.stringify(twice)} appears twice in one object`);
  return value as Record<string, unknown>;
}

/**
 * The first key that appears twice in one object of `text`, which must be valid JSON (it has
 * been parsed already, so the scan need not validate). String contents are skipped with
 * indexOf, so a large prompt costs a few native searches, not a loop over its characters.
 */
export function duplicateKey(text: string): string | undefined {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = closingQuote(text, i + 1);
      const keys = stack[stack.length - 1];
      if (expectKey && keys != null) {
        const raw = text.slice(i + 1, end);
        const key = raw.includes("\\") ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return undefined;
}

/** The index of the quote that ends the string whose contents start at `from`. */
function closingQuote(text: string, from: number): number {
  let at = text.indexOf('"', from);
  while (at > 0) {
    // A quote preceded by an odd run of backslashes is escaped.
    let slashes = 0;
    for (let k = at - 1; k >= from && text.charCodeAt(k) === 0x5c; k--) slashes++;
    if (slashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
  return text.length;
}
