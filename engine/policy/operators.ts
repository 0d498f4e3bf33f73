/**
 * Condition operators, each compiled once into a test on a field's value.
 *
 * Strings compare in canonical form (canonical.ts) on both sides, so look-alike spellings of an
 * argument cannot dodge a condition; numbers compare as numbers and accept unit literals
 * ("$50", "4k", "80%", "09:30"). A list-valued field (metadata lists, guard findings) satisfies
 * eq/in/contains when any element does. A missing field fails every test except neq, nin and
 * `exists: false`, so a rule never matches on data that is not there by accident.
 */
import { BlockList, isIP } from "node:net";
import RE2 from "re2";
import { canonicalName } from "./canonical.js";
import { compileGlob } from "./glob.js";
import { numericLiteral } from "./literals.js";
import type { FieldValue } from "./fields.js";

export const OPERATORS = [
  "eq", "neq", "in", "nin", "gt", "gte", "lt", "lte", "between",
  "contains", "startsWith", "endsWith", "matches", "glob", "exists", "cidr",
] as const;
export type Operator = (typeof OPERATORS)[number];

export class OperandError extends Error {
  override readonly name = "OperandError";
}

export type Test = (value: FieldValue) => boolean;

const canon = (v: unknown): unknown => (typeof v === "string" ? canonicalName(v) : v);

/** Equality between a field value and a literal: numeric when the field is a number. */
function equals(value: unknown, literal: unknown, literalNumber: number | undefined): boolean {
  if (typeof value === "number") return literalNumber !== undefined && value === literalNumber;
  if (typeof value === "boolean") return value === literal || String(value) === literal;
  if (typeof value === "string") return typeof literal === "string" ? canonicalName(value) === literal : false;
  return false;
}

const any = (value: FieldValue, test: (v: unknown) => boolean): boolean =>
  Array.isArray(value) ? value.some(test) : value !== undefined && value !== null && test(value);

function asNumber(value: FieldValue): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string") return numericLiteral(value);
  return undefined;
}

function needNumber(op: string, operand: unknown): number {
  const n = numericLiteral(operand);
  if (n === undefined) throw new OperandError(`"${op}" needs a number (units such as $50, 4k, 80% or 09:30 are fine), not ${JSON.stringify(operand)}`);
  return n;
}

function needString(op: string, operand: unknown): string {
  if (typeof operand !== "string" || operand === "") throw new OperandError(`"${op}" needs a non-empty string`);
  return operand;
}

function needList(op: string, operand: unknown): unknown[] {
  if (!Array.isArray(operand) || operand.length === 0) throw new OperandError(`"${op}" needs a non-empty list`);
  return operand;
}

export function compileOperator(op: Operator, operand: unknown): Test {
  switch (op) {
    case "eq":
    case "neq": {
      if (operand === null || typeof operand !== "string" && typeof operand !== "number" && typeof operand !== "boolean") {
        throw new OperandError(`"${op}" needs a string, number or boolean value`);
      }
      const literal = canon(operand);
      const n = numericLiteral(operand);
      const negate = op === "neq";
      return (v) => any(v, (x) => equals(x, literal, n)) !== negate;
    }
    case "in":
    case "nin": {
      const scalar = (x: unknown) => typeof x === "string" || typeof x === "number" || typeof x === "boolean";
      if (!Array.isArray(operand) || operand.length === 0 || !operand.every(scalar)) {
        throw new OperandError(`"${op}" needs a non-empty list of strings, numbers or booleans`);
      }
      const list: unknown[] = operand;
      const strings = new Set(list.map(canon));
      const numeric = list.map(numericLiteral).filter((x): x is number => x !== undefined);
      const numbers = numeric.length === 0 ? undefined : new Set(numeric);
      const negate = op === "nin";
      return (v) => any(v, (x) => (typeof x === "number" ? numbers?.has(x) === true : strings.has(canon(x)) || strings.has(String(x)))) !== negate;
    }
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      const bound = needNumber(op, operand);
      const cmp = { gt: (a: number) => a > bound, gte: (a: number) => a >= bound, lt: (a: number) => a < bound, lte: (a: number) => a <= bound }[op];
      return (v) => {
        const n = asNumber(v);
        return n !== undefined && cmp(n);
      };
    }
    case "between": {
      const list = needList(op, operand);
      if (list.length !== 2) throw new OperandError(`"between" needs [low, high]`);
      const lo = needNumber(op, list[0]);
      const hi = needNumber(op, list[1]);
      // A range whose low end is above its high end wraps around: ["22:00", "06:00"] is the night.
      return (v) => {
        const n = asNumber(v);
        if (n === undefined) return false;
        return lo <= hi ? n >= lo && n <= hi : n >= lo || n <= hi;
      };
    }
    case "contains": {
      if (operand === null || typeof operand === "object") throw new OperandError(`"contains" needs a string, number or boolean`);
      const literal = canon(operand);
      const n = numericLiteral(operand);
      return (v) => {
        if (Array.isArray(v)) return v.some((x) => equals(x, literal, n));
        return typeof v === "string" && typeof literal === "string" && canonicalName(v).includes(literal);
      };
    }
    case "startsWith":
    case "endsWith": {
      const literal = canonicalName(needString(op, operand));
      const start = op === "startsWith";
      return (v) => typeof v === "string" && (start ? canonicalName(v).startsWith(literal) : canonicalName(v).endsWith(literal));
    }
    case "matches": {
      const source = needString(op, operand);
      let re: RE2;
      try {
        re = new RE2(source, "u");
      } catch (err) {
        throw new OperandError(`"matches" pattern ${JSON.stringify(source)} is not a valid RE2 expression: ${(err as Error).message}`);
      }
      return (v) => typeof v === "string" && re.test(canonicalName(v));
    }
    case "glob": {
      const glob = compileGlob(needString(op, operand));
      return (v) => any(v, (x) => typeof x === "string" && glob.match(canonicalName(x)));
    }
    case "exists": {
      if (operand !== undefined && typeof operand !== "boolean") throw new OperandError(`"exists" takes true, false or no value`);
      const want = operand !== false;
      return (v) => (v !== undefined && v !== null) === want;
    }
    case "cidr": {
      const blocks = new BlockList();
      for (const cidr of typeof operand === "string" ? [operand] : needList(op, operand)) {
        const [address, bits] = String(cidr).split("/");
        const family = isIP(address ?? "");
        const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
        if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
          throw new OperandError(`"cidr" needs addresses like 10.0.0.0/8 or 2001:db8::/32, not ${JSON.stringify(cidr)}`);
        }
        blocks.addSubnet(address!, prefix, family === 6 ? "ipv6" : "ipv4");
      }
      return (v) => {
        if (typeof v !== "string") return false;
        // IPv4-mapped IPv6 (::ffff:10.1.2.3) is how dual-stack sockets report IPv4 callers.
        const ip = v.startsWith("::ffff:") && isIP(v.slice(7)) === 4 ? v.slice(7) : v;
        const family = isIP(ip);
        return family !== 0 && blocks.check(ip, family === 6 ? "ipv6" : "ipv4");
      };
    }
  }
}
