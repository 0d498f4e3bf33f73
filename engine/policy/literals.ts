/**
 * Literal values in conditions, so rules read like the brief's composer table:
 *   "$50", "$14.20", "50 USD"      → dollars (50, 14.2)
 *   "4k", "1.5M", "4096 tokens"    → counts (4000, 1500000, 4096)
 *   "80%"                          → a ratio (0.8), for usage conditions
 *   "09:30"                        → minutes after midnight (570), for time-of-day conditions
 * Numeric operators (gt, gte, lt, lte, between) read their operand this way; equality compares
 * a number field with the literal's number and everything else as canonical text, so "09:30"
 * still equals the string "09:30". Parsing happens once, when a rule compiles.
 */

export type Literal = string | number | boolean;

const CURRENCY = /^(?:\$\s?(\d+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s?(?:usd|USD|dollars?))$/;
const COUNT = /^(\d+(?:\.\d+)?)\s?([kKmMbB])(?:\s?tokens?)?$|^(\d+(?:\.\d+)?)\s?tokens?$/;
const PERCENT = /^(\d+(?:\.\d+)?)\s?%$/;
const CLOCK = /^([01]?\d|2[0-3]):([0-5]\d)$/;

const MULTIPLIER: Readonly<Record<string, number>> = { k: 1e3, m: 1e6, b: 1e9 };

export function parseLiteral(value: Literal): Literal {
  if (typeof value !== "string") return value;
  const text = value.trim();
  let m = CURRENCY.exec(text);
  if (m !== null) return Number(m[1] ?? m[2]);
  m = COUNT.exec(text);
  if (m !== null) return m[3] !== undefined ? Number(m[3]) : Number(m[1]) * MULTIPLIER[m[2]!.toLowerCase()]!;
  m = PERCENT.exec(text);
  if (m !== null) return Number(m[1]) / 100;
  m = CLOCK.exec(text);
  if (m !== null) return Number(m[1]) * 60 + Number(m[2]);
  return value;
}

/** A numeric literal, or undefined when the value is not a number in any unit. */
export function numericLiteral(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string") return undefined;
  const parsed = parseLiteral(value);
  if (typeof parsed === "number") return parsed;
  const plain = Number(value);
  return value.trim() !== "" && Number.isFinite(plain) ? plain : undefined;
}
