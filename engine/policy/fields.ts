/**
 * The fields a condition can read, each compiled to a reader once. A reader also declares which
 * kind of input it needs, so the pipeline can skip work (argument extraction, Content Guard
 * scanning, token counting, usage lookups) that no rule of the published policy reads.
 *
 *   caller:  user, role, tenant, ip, metadata.<key>
 *   call:    name, target, connection, args.<path>      (path: a.b.c, a[0].b)
 *   guard:   guard (list of finding ids; missing when none), guard.<id> (true when that pattern matched)
 *   tokens:  tokens.in, tokens.out, tokens.total
 *   usage:   usage.<limit> (fraction used, 0..1+), usage.<limit>.used, usage.<limit>.limit
 *   time:    time.hour (0-23), time.of_day (minutes after midnight), time.weekday (mon..sun), in UTC
 */
import type { MetadataValue } from "../auth/identity.js";
import type { PolicyInput } from "./compile-policy.js";

export type InputKind = "args" | "guard" | "tokens" | "usage" | "time" | "ip";

export type FieldValue = MetadataValue | number | boolean | readonly unknown[] | undefined | null | object;

export interface FieldReader {
  readonly field: string;
  readonly reads: InputKind | undefined;
  read(input: PolicyInput, canonicalName: string): FieldValue;
}

export class FieldError extends Error {
  override readonly name = "FieldError";
}

const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

export function compileField(field: string): FieldReader {
  const simple = SIMPLE[field];
  if (simple !== undefined) return { field, ...simple };
  const dot = field.indexOf(".");
  const head = dot < 0 ? field : field.slice(0, dot);
  const rest = dot < 0 ? "" : field.slice(dot + 1);
  switch (head) {
    case "metadata": {
      if (rest === "") throw new FieldError(`"metadata" needs a key: metadata.<key>`);
      return { field, reads: undefined, read: (i) => (Object.hasOwn(i.metadata, rest) ? i.metadata[rest] : undefined) };
    }
    case "args": {
      if (rest === "") return { field, reads: "args", read: (i) => i.args };
      const path = parsePath(rest, field);
      return { field, reads: "args", read: (i) => walk(i.args, path) };
    }
    case "guard": {
      return { field, reads: "guard", read: (i) => i.findings?.has(rest) ?? false };
    }
    case "usage": {
      const [limit, part] = rest.split(".", 2) as [string, string | undefined];
      if (limit === "" || (part !== undefined && part !== "used" && part !== "limit")) {
        throw new FieldError(`usage fields are usage.<limit>, usage.<limit>.used or usage.<limit>.limit`);
      }
      return {
        field,
        reads: "usage",
        read: (i) => {
          const u = i.usage?.(limit);
          if (u === undefined) return undefined;
          return part === "used" ? u.used : part === "limit" ? u.limit : u.limit === 0 ? Infinity : u.used / u.limit;
        },
      };
    }
    default:
      throw new FieldError(`unknown field "${field}"`);
  }
}

const SIMPLE: Readonly<Record<string, Omit<FieldReader, "field">>> = {
  user: { reads: undefined, read: (i) => i.user },
  role: { reads: undefined, read: (i) => i.metadata.role },
  tenant: { reads: undefined, read: (i) => i.tenant },
  connection: { reads: undefined, read: (i) => i.connection },
  name: { reads: undefined, read: (_, name) => name },
  target: { reads: undefined, read: (i) => i.target },
  ip: { reads: "ip", read: (i) => i.sourceIp },
  // Missing when nothing was found, so `guard exists` reads "some pattern matched".
  guard: { reads: "guard", read: (i) => (i.findings === undefined || i.findings.size === 0 ? undefined : [...i.findings]) },
  "tokens.in": { reads: "tokens", read: (i) => i.tokens?.in },
  "tokens.out": { reads: "tokens", read: (i) => i.tokens?.out },
  "tokens.total": { reads: "tokens", read: (i) => (i.tokens === undefined ? undefined : i.tokens.in + i.tokens.out) },
  "time.hour": { reads: "time", read: (i) => new Date(i.now ?? Date.now()).getUTCHours() },
  "time.of_day": {
    reads: "time",
    read: (i) => {
      const d = new Date(i.now ?? Date.now());
      return d.getUTCHours() * 60 + d.getUTCMinutes();
    },
  },
  "time.weekday": { reads: "time", read: (i) => WEEKDAYS[new Date(i.now ?? Date.now()).getUTCDay()] },
};

type PathStep = string | number;

function parsePath(path: string, field: string): PathStep[] {
  const steps: PathStep[] = [];
  for (const part of path.split(".")) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (m === null || (m[1] === "" && m[2] === "")) throw new FieldError(`bad path in "${field}"`);
    if (m[1] !== "") steps.push(m[1]!);
    for (const index of m[2]!.matchAll(/\[(\d+)\]/g)) steps.push(Number(index[1]));
  }
  return steps;
}

function walk(value: unknown, path: readonly PathStep[]): FieldValue {
  let v: unknown = value;
  for (const step of path) {
    if (v === null || typeof v !== "object") return undefined;
    if (typeof step === "number") {
      if (!Array.isArray(v)) return undefined;
      v = v[step];
    } else {
      // Own properties only: `args.constructor` or `args.__proto__` must not reach prototypes.
      if (!Object.hasOwn(v, step)) return undefined;
      v = (v as Record<string, unknown>)[step];
    }
  }
  return v as FieldValue;
}
