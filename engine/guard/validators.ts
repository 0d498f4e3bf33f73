/**
 * Checks that confirm a regular-expression candidate before it becomes a finding: checksums
 * (Luhn, IBAN mod 97), number-plan rules (SSN areas), structure (JWT header, IPv6) and context
 * (an AWS secret key needs an AWS or secret word nearby). A check may also shorten the match, for
 * formats whose length depends on content (IBAN length by country).
 *
 * Referenced by name, so a pool worker rebuilds the same checks from the pattern sources alone.
 */
import { isIPv6 } from "node:net";

/** Returns the confirmed end of the match (≤ `end`), or -1 to reject it. */
export type Validator = (text: string, start: number, end: number, key: string | undefined) => number;

const digitsOf = (s: string): string => s.replace(/\D/g, "");

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

// Issuer prefixes and lengths of the major networks: Visa, Mastercard (51-55, 2221-2720), Amex,
// Discover, JCB, Diners Club, UnionPay, Maestro.
const CARD_PREFIX = /^(?:4\d{12}(?:\d{3}){0,2}|5[1-5]\d{14}|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)\d{12}|3[47]\d{13}|6(?:011|5\d\d|4[4-9]\d)\d{12,15}|35(?:2[89]|[3-8]\d)\d{12,15}|3(?:0[0-5]|[68]\d)\d{11,16}|62\d{14,17}|(?:50|5[6-9]|6\d)\d{10,17})$/;

const card: Validator = (text, start, end) => {
  const digits = digitsOf(text.slice(start, end));
  return CARD_PREFIX.test(digits) && luhn(digits) ? end : -1;
};

// Area 000, 666 and 900-999 (ITINs) are never issued, nor group 00 or serial 0000.
const ssn: Validator = (text, start, end) => {
  const d = digitsOf(text.slice(start, end));
  const area = Number(d.slice(0, 3));
  if (area === 0 || area === 666 || area >= 900 || d.slice(3, 5) === "00" || d.slice(5) === "0000") return -1;
  return end;
};

// IBAN lengths by country (ISO 13616 registry).
const IBAN_LENGTH: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22,
  GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27,
  MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33,
  SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20, YE: 30,
};

function mod97(iban: string): number {
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of moved) {
    const v = ch >= "A" ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    rest = v > 9 ? (rest * 100 + v) % 97 : (rest * 10 + v) % 97;
  }
  return rest;
}

/** Takes as many characters as the country's IBAN has (the match may run on into a word). */
const iban: Validator = (text, start, end) => {
  const want = IBAN_LENGTH[text.slice(start, start + 2).toUpperCase()];
  if (want === undefined) return -1;
  let compact = "";
  let i = start;
  for (; i < end && compact.length < want; i++) if (text[i] !== " ") compact += text[i]!.toUpperCase();
  if (compact.length !== want || /[A-Z0-9]/i.test(text[i] ?? "")) return -1;
  return mod97(compact) === 1 ? i : -1;
};

const ipv6: Validator = (text, start, end) => {
  const candidate = text.slice(start, end);
  // "a::b" in C++ or Rust source is valid IPv6 syntax; real addresses have more to them.
  return isIPv6(candidate) && candidate.length >= 6 && /[0-9a-f]{2}/i.test(candidate) ? end : -1;
};

const jwt: Validator = (text, start, end) => {
  const header = text.slice(start, text.indexOf(".", start));
  try {
    const parsed = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as { alg?: unknown };
    return typeof parsed?.alg === "string" ? end : -1;
  } catch {
    return -1;
  }
};

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

const classes = (s: string): number => Number(/[a-z]/.test(s)) + Number(/[A-Z]/.test(s)) + Number(/\d/.test(s)) + Number(/[^A-Za-z0-9]/.test(s));

const AWS_CONTEXT = /aws|secret/i;

/** 40 base64 characters are everywhere; an AWS secret also has an AWS or secret word nearby. */
const awsSecret: Validator = (text, start, end, key) => {
  const value = text.slice(start, end);
  if (classes(value) < 3 || entropy(value) < 4) return -1;
  const before = text.slice(Math.max(0, start - 64), start);
  return AWS_CONTEXT.test(before) || (key !== undefined && AWS_CONTEXT.test(key)) ? end : -1;
};

const highEntropy: Validator = (text, start, end) => {
  const value = text.slice(start, end);
  return classes(value) >= 3 && entropy(value) >= 4 ? end : -1;
};

export const VALIDATORS = { card, ssn, iban, ipv6, jwt, awsSecret, highEntropy } as const satisfies Record<string, Validator>;

export type ValidatorName = keyof typeof VALIDATORS;
