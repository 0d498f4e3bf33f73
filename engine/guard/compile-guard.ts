/**
 * Turns a tenant's `guard` config into a scanner, once per publish. Every custom pattern is
 * compiled by RE2 here, so one it cannot run (backreferences, lookaround) is refused when the
 * config loads, with the path of the pattern, and never at call time.
 */
import RE2 from "re2";
import type { GuardAction, GuardConfig } from "../config/types.js";
import { BUILTIN_BY_ID, BUILTIN_PATTERNS } from "./library.js";
import { normalizeForScan } from "./normalize.js";
import { Scanner, type ScanPattern, type ScanSpec } from "./scan.js";

export const DEFAULT_OFFLOAD_BYTES = 64 * 1024;

/** A guard entry that cannot compile; `path` is relative to the tenant's `guard`. */
export class GuardConfigError extends Error {
  override readonly name = "GuardConfigError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CompiledGuard {
  readonly spec: ScanSpec;
  readonly scanner: Scanner;
  readonly responseInspection: boolean;
  readonly offloadBytes: number;
}

export function compileGuard(config: GuardConfig): CompiledGuard | undefined {
  const patterns: ScanPattern[] = [];
  const ids = new Set<string>();
  const add = (pattern: ScanPattern, path: string) => {
    if (ids.has(pattern.id)) throw new GuardConfigError(path, `duplicate guard pattern id "${pattern.id}"`);
    ids.add(pattern.id);
    patterns.push(pattern);
  };

  (config.builtins ?? []).forEach((entry, i) => {
    const { id, action } = typeof entry === "string" ? { id: entry, action: undefined } : entry;
    if (id === "*") {
      for (const b of BUILTIN_PATTERNS) if (b.optIn !== true && !ids.has(b.id)) add(fromBuiltin(b.id, undefined), `builtins[${i}]`);
      return;
    }
    if (!BUILTIN_BY_ID.has(id)) {
      throw new GuardConfigError(`builtins[${i}]`, `unknown built-in pattern "${id}"; known: ${[...BUILTIN_BY_ID.keys()].join(", ")}`);
    }
    add(fromBuiltin(id, action), `builtins[${i}]`);
  });

  (config.patterns ?? []).forEach((p, i) => {
    const at = `patterns[${i}]`;
    if (BUILTIN_BY_ID.has(p.id)) throw new GuardConfigError(`${at}.id`, `"${p.id}" is a built-in pattern id; choose another`);
    if ((p.pattern === undefined) === (p.keywords === undefined)) {
      throw new GuardConfigError(at, `give either "pattern" or "keywords"`);
    }
    const label = p.label ?? p.id.toUpperCase().replace(/[^A-Z0-9]+/g, "_");
    if (p.pattern !== undefined) {
      checkSource(p.pattern, `${at}.pattern`, p.id);
      add({ id: p.id, label, action: p.action, source: p.pattern, group: false, exact: false }, `${at}.id`);
    } else {
      add({ id: p.id, label, action: p.action, source: keywordSource(p.keywords!, `${at}.keywords`), group: true, exact: true }, `${at}.id`);
    }
  });

  if (patterns.length === 0) return undefined;
  const spec: ScanSpec = { patterns };
  let scanner: Scanner;
  try {
    scanner = new Scanner(spec);
  } catch (err) {
    throw new GuardConfigError("patterns", `RE2 cannot combine the patterns into one set: ${(err as Error).message}`);
  }
  return {
    spec,
    scanner,
    responseInspection: config.responseInspection === true,
    offloadBytes: config.offloadBytes ?? DEFAULT_OFFLOAD_BYTES,
  };
}

function fromBuiltin(id: string, action: GuardAction | undefined): ScanPattern {
  const b = BUILTIN_BY_ID.get(id)!;
  return {
    id: b.id,
    label: b.label,
    action: action ?? b.defaultAction,
    source: b.source,
    validator: b.validator,
    retryInside: b.retryInside,
    group: /(?<!\\)\((?!\?)/.test(b.source),
    exact: true,
  };
}

function checkSource(source: string, path: string, id: string): void {
  let re: RE2;
  try {
    re = new RE2(source, "u");
  } catch (err) {
    throw new GuardConfigError(
      path,
      `pattern "${id}" is not valid RE2 syntax (${(err as Error).message}); RE2 keeps scanning linear-time and has no backreferences or lookaround`,
    );
  }
  if (re.test("")) throw new GuardConfigError(path, `pattern "${id}" matches the empty string, so it would match everywhere`);
}

const META = /[\\^$.|?*+()[\]{}]/g;

/**
 * One RE2 alternation for a keyword list: case-insensitive, whole words (a letter or digit on
 * either side means no match), runs of white space in a keyword matching any run of white space.
 * Keywords are normalized like the text they are matched against.
 */
export function keywordSource(keywords: readonly string[], path: string): string {
  const alternatives = keywords.map((k, i) => {
    const text = normalizeForScan(k).text.trim();
    if (text === "") throw new GuardConfigError(`${path}[${i}]`, "a keyword must not be empty");
    return text.replace(META, "\\$&").replace(/\s+/g, "\\s+");
  });
  if (alternatives.length === 0) throw new GuardConfigError(path, "a keyword list must not be empty");
  return `(?i)(?:^|[^\\p{L}\\p{N}_])(${alternatives.join("|")})(?:$|[^\\p{L}\\p{N}_])`;
}
