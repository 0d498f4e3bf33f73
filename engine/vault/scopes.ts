/**
 * Credential scopes and the check at the vault & scope stage.
 *
 *   scope       = name [ "(" constraint *( "," constraint ) ")" ]
 *   name        = segment *( ":" segment )        e.g. repos:read, ddl:*, charge:create
 *   segment     = 1*( letter / digit / "_" / "-" / "." ) / "*"
 *   constraint  = argument op value               e.g. amount <= 50, currency == "usd"
 *   argument    = a tools/call argument name; dots reach into objects (customer.country)
 *   op          = "<=" / "<" / ">=" / ">" / "==" / "!=" / "≤" / "≥" / "≠"
 *   value       = number / "quoted string" / bare word
 *
 * A granted `*` segment covers any one segment, and a trailing `*` any number of them, so
 * `ddl:*` covers `ddl:create` and `*` covers everything. A `*` in a *required* scope is literal:
 * a tool that needs `ddl:*` needs a credential granted `ddl:*` (or `*`), not just `ddl:create`.
 * A granted scope with constraints covers a call only when the call's arguments satisfy all of
 * them; an argument that is missing, or not a number where a number is compared, fails.
 */

export type ConstraintOp = "<=" | "<" | ">=" | ">" | "==" | "!=";

export interface Constraint {
  readonly path: readonly string[];
  readonly op: ConstraintOp;
  readonly value: number | string;
  readonly source: string;
}

export interface Scope {
  readonly segments: readonly string[];
  readonly constraints: readonly Constraint[];
  readonly source: string;
}

export class ScopeSyntaxError extends Error {
  override readonly name = "ScopeSyntaxError";
}

const SEGMENT = /^(?:\*|[A-Za-z0-9_.-]+)$/;
const OPS: ReadonlyArray<[string, ConstraintOp]> = [
  ["<=", "<="], [">=", ">="], ["==", "=="], ["!=", "!="], ["≤", "<="], ["≥", ">="], ["≠", "!="], ["<", "<"], [">", ">"],
];

export function parseScope(text: string): Scope {
  const source = text.trim();
  const open = source.indexOf("(");
  const name = (open === -1 ? source : source.slice(0, open)).trim();
  const segments = name.split(":");
  if (name === "" || !segments.every((s) => SEGMENT.test(s))) {
    throw new ScopeSyntaxError(`"${text}" is not a scope: use segments of letters, digits, _ . - or *, separated by ":" (e.g. repos:read)`);
  }
  if (open === -1) return { segments, constraints: [], source };
  if (!source.endsWith(")")) throw new ScopeSyntaxError(`"${text}": constraints must end with ")"`);
  const body = source.slice(open + 1, -1);
  if (body.trim() === "") throw new ScopeSyntaxError(`"${text}": empty constraint list`);
  const constraints = splitConstraints(body, text).map((c) => parseConstraint(c, text));
  return { segments, constraints, source };
}

/** Splits on commas outside quotes, so `note == "a, b"` stays one constraint. */
function splitConstraints(body: string, text: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (const ch of body) {
    if (ch === '"') quoted = !quoted;
    if (ch === "," && !quoted) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  if (quoted) throw new ScopeSyntaxError(`"${text}": unterminated string`);
  parts.push(current);
  return parts.map((p) => p.trim());
}

function parseConstraint(text: string, whole: string): Constraint {
  for (const [token, op] of OPS) {
    const at = text.indexOf(token);
    if (at === -1) continue;
    const path = text.slice(0, at).trim();
    const raw = text.slice(at + token.length).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*$/.test(path)) throw new ScopeSyntaxError(`"${whole}": "${path}" is not an argument name`);
    if (raw === "") throw new ScopeSyntaxError(`"${whole}": "${text}" has no value`);
    let value: number | string;
    if (/^"[^"]*"$/.test(raw)) value = raw.slice(1, -1);
    else if (/^-?\d+(?:\.\d+)?$/.test(raw)) value = Number(raw);
    else if (/^[A-Za-z0-9_.-]+$/.test(raw)) value = raw;
    else throw new ScopeSyntaxError(`"${whole}": "${raw}" is not a number, a "quoted string" or a bare word`);
    if (typeof value === "string" && op !== "==" && op !== "!=") throw new ScopeSyntaxError(`"${whole}": "${token}" compares numbers, not "${value}"`);
    return { path: path.split("."), op, value, source: `${path} ${op} ${typeof value === "string" ? JSON.stringify(value) : value}` };
  }
  throw new ScopeSyntaxError(`"${whole}": "${text}" has no operator (<=, <, >=, >, ==, !=)`);
}

/** Whether a granted scope's name covers a required scope's name (constraints aside). */
export function covers(grant: Scope, required: Scope): boolean {
  const g = grant.segments;
  const r = required.segments;
  for (let i = 0; i < g.length; i++) {
    if (g[i] === "*" && i === g.length - 1) return r.length >= g.length;
    if (i >= r.length) return false;
    if (g[i] !== "*" && g[i] !== r[i]) return false;
  }
  return g.length === r.length;
}

/** The first constraint the arguments fail, or undefined when all hold. */
export function failedConstraint(scope: Scope, args: unknown): { constraint: Constraint; actual: unknown } | undefined {
  for (const c of scope.constraints) {
    let v: unknown = args;
    for (const key of c.path) v = v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
    if (!holds(c, v)) return { constraint: c, actual: v };
  }
  return undefined;
}

function holds(c: Constraint, v: unknown): boolean {
  if (c.op === "==") return v === c.value;
  if (c.op === "!=") return v !== undefined && v !== c.value;
  if (typeof v !== "number" || !Number.isFinite(v) || typeof c.value !== "number") return false;
  switch (c.op) {
    case "<=":
      return v <= c.value;
    case "<":
      return v < c.value;
    case ">=":
      return v >= c.value;
    case ">":
      return v > c.value;
  }
}

export type ScopeVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Decides whether `grants` cover `required` for a call with `args`; the reason names no argument value. */
export function checkScope(credential: string, grants: readonly Scope[], required: Scope, args: unknown): ScopeVerdict {
  const candidates = grants.filter((g) => covers(g, required));
  if (candidates.length === 0) return { ok: false, reason: `credential ${credential} lacks scope ${required.source}` };
  let first: { constraint: Constraint; actual: unknown } | undefined;
  for (const g of candidates) {
    const failed = failedConstraint(g, args);
    if (failed === undefined) return { ok: true };
    first ??= failed;
  }
  // Argument values are left out on purpose: they are the caller's data and may be sensitive.
  const c = first!.constraint;
  const got = first!.actual === undefined ? "missing" : typeof first!.actual === "number" ? "outside the limit" : "not allowed";
  return { ok: false, reason: `credential ${credential} grants scope ${required.source} only where ${c.source} (${c.path.join(".")}: ${got})` };
}
