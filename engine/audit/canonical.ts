/**
 * The canonical encoding the hash chain is computed over: JSON with object keys sorted by UTF-16
 * code unit order at every depth, no white space, `undefined` members omitted, and numbers as
 * `JSON.stringify` writes them. Any party (the verifier, a SIEM script) can rebuild the exact bytes
 * from a parsed record, whatever key order a store or a broker hands it back in.
 */
/** Characters JSON.stringify would escape (or that need care): strings without them are quoted as they are. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

/** JSON.stringify for a string, without its cost for the common string that needs no escaping. */
export const quote = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);

export function canonicalJson(value: unknown): string {
  if (typeof value === "string") return quote(value);
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      const item: unknown = value[i];
      out += item === undefined || typeof item === "function" ? "null" : canonicalJson(item);
    }
    return out + "]";
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  // Most objects are built with their keys in order already; sorting only when needed halves
  // the cost of encoding the small nested objects every record has.
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  let out = "{";
  let first = true;
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined || typeof v === "function") continue;
    if (!first) out += ",";
    first = false;
    out += quote(key) + ":" + canonicalJson(v);
  }
  return out + "}";
}

/** Every member an audit record may have, except `hash`, in canonical (sorted) order. */
const RECORD_KEYS = [
  "v", "kind", "chain", "seq", "prev", "id", "time", "tenant", "keyId", "user", "role", "metadata", "session", "connection", "method",
  "target", "name", "decision", "ruleId", "reasons", "outcome", "timings", "upstream", "arguments", "findings",
  "credential", "tokens", "cost", "admin", "checkpoint",
].sort();
const QUOTED = RECORD_KEYS.map((k) => JSON.stringify(k) + ":");
const KNOWN = new Set(RECORD_KEYS);

/**
 * `canonicalJson` of an audit record without its `hash`, written straight from the known members
 * in their sorted order: the flusher seals every record through this, and walking a fixed key
 * list costs a third of sorting each record's keys. Anything unexpected (a member it does not
 * know) falls back to the generic encoder, so the bytes are always exactly canonicalJson's;
 * a unit test pins the two together.
 */
export function canonicalRecordJson(record: Readonly<Record<string, unknown>>): string {
  let out = "{";
  let count = 0;
  for (let i = 0; i < RECORD_KEYS.length; i++) {
    const v = record[RECORD_KEYS[i]!];
    if (v === undefined || typeof v === "function") continue;
    if (count++ > 0) out += ",";
    out += QUOTED[i] + (typeof v === "string" ? quote(v) : canonicalJson(v));
  }
  for (const key in record) {
    if (!KNOWN.has(key) && key !== "hash" && record[key] !== undefined) {
      const { hash: _hash, ...rest } = record;
      return canonicalJson(rest);
    }
  }
  return out + "}";
}
