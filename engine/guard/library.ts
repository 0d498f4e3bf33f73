/**
 * The built-in Content Guard patterns. Ids are stable: configs, policy conditions (`guard.<id>`)
 * and audit records name them, so an id is never renamed or reused.
 *
 * Sources are RE2 syntax and run over normalized text (normalize.ts). Most patterns bound their
 * match with an explicit character class instead of `\b` and capture the value as group 1, so
 * `ssn123-45-6789` and `key=AKIA…` are found while digits or letters running on are not. The
 * `precision` text is what the README documents for each entry.
 */
import type { GuardAction } from "../config/types.js";
import type { ValidatorName } from "./validators.js";

export interface PatternSpec {
  readonly id: string;
  /** The placeholder type: `[REDACTED:<label>]`. */
  readonly label: string;
  /** RE2 syntax; when it has a capture group, group 1 is the value. */
  readonly source: string;
  readonly validator?: ValidatorName;
  /** After a rejected candidate, search again from its second character, not after it. */
  readonly retryInside?: boolean;
}

export interface BuiltinPattern extends PatternSpec {
  readonly description: string;
  readonly precision: string;
  readonly defaultAction: GuardAction;
  /** Not enabled by `builtins: ["*"]`; must be named. */
  readonly optIn?: boolean;
}

const IPV4_OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const PRIVATE_KEY_KIND = "(?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?";

export const BUILTIN_PATTERNS: readonly BuiltinPattern[] = [
  {
    id: "us-ssn",
    label: "SSN",
    description: "US Social Security number",
    precision: "3-2-4 digits separated by hyphens or spaces; areas 000, 666 and 900-999, group 00 and serial 0000 are rejected. Unseparated 9-digit numbers are not reported.",
    defaultAction: "redact",
    source: "(?:^|[^\\d-])(\\d{3}-\\d{2}-\\d{4}|\\d{3} \\d{2} \\d{4})(?:$|[^\\d-])",
    validator: "ssn",
  },
  {
    id: "payment-card",
    label: "CARD",
    description: "Payment card number (PAN)",
    precision: "13-19 digits, optionally grouped by spaces or hyphens, with a Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay or Maestro prefix and a valid Luhn check digit.",
    defaultAction: "redact",
    source: "(?:^|[^\\d-])((?:\\d[ -]?){12,18}\\d)(?:$|[^\\d-])",
    validator: "card",
  },
  {
    id: "email",
    label: "EMAIL",
    description: "Email address",
    precision: "local@domain with a dotted domain and an alphabetic top-level domain of 2-63 letters; internationalized (non-ASCII) addresses are not reported.",
    defaultAction: "redact",
    source: "(?i)(?:^|[^a-z0-9._%+-])([a-z0-9._%+-]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63})(?:$|[^a-z0-9-])",
  },
  {
    id: "phone-e164",
    label: "PHONE",
    description: "Phone number in E.164 form",
    precision: "+ then 8-15 digits (country code first, no leading zero), single spaces, dots or hyphens allowed between digits.",
    defaultAction: "redact",
    source: "(?:^|[^\\w+])(\\+[1-9](?:[ .-]?\\d){7,14})(?:$|[^\\d])",
  },
  {
    id: "phone-nanp",
    label: "PHONE",
    description: "North American (NANP) phone number",
    precision: "(NXX) NXX-XXXX, NXX-NXX-XXXX or NXX.NXX.XXXX, optionally preceded by +1 or 1; area and exchange codes start with 2-9. Ten digits without separators are not reported.",
    defaultAction: "redact",
    source: "(?:^|[^\\d+])((?:\\+?1[ .-]?)?(?:\\([2-9]\\d{2}\\) ?|[2-9]\\d{2}[ .-])[2-9]\\d{2}[ .-]\\d{4})(?:$|[^\\d])",
  },
  {
    id: "iban",
    label: "IBAN",
    description: "International Bank Account Number",
    precision: "country code, check digits and account, compact or in groups of four; the length must be the country's and the mod-97 checksum must hold.",
    defaultAction: "redact",
    source: "(?i)(?:^|[^a-z0-9])([a-z]{2}\\d{2}(?: ?[a-z0-9]){11,30})",
    validator: "iban",
    retryInside: true,
  },
  {
    id: "ipv4",
    label: "IPV4",
    description: "IPv4 address",
    precision: "dotted quad with octets 0-255, not part of a longer dotted number. Four-part version numbers (1.2.3.4) match too.",
    defaultAction: "alert",
    source: `(?:^|[^\\d.])(${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3})(?:$|[^\\d.]|\\.(?:$|[^\\d]))`,
  },
  {
    id: "ipv6",
    label: "IPV6",
    description: "IPv6 address",
    precision: "full, compressed (::) and IPv4-embedded forms, confirmed by Node's IPv6 parser; forms shorter than 6 characters (::1) are not reported.",
    defaultAction: "alert",
    source: "(?i)(?:^|[^0-9a-z:.])((?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{1,4}|\\d{1,3}(?:\\.\\d{1,3}){3})?)(?:$|[^0-9a-z:.])",
    validator: "ipv6",
  },
  {
    id: "aws-access-key-id",
    label: "AWS_ACCESS_KEY_ID",
    description: "AWS access key id",
    precision: "AKIA, ASIA and the other AWS key-id prefixes followed by 16 base32 characters.",
    defaultAction: "deny",
    source: "(?:^|[^A-Za-z0-9])((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z2-7]{16})(?:$|[^A-Za-z0-9])",
  },
  {
    id: "aws-secret-access-key",
    label: "AWS_SECRET_ACCESS_KEY",
    description: "AWS secret access key",
    precision: "40 base64 characters with at least three character classes and 4+ bits of entropy per character, and \"aws\" or \"secret\" in the 64 characters before it or in its JSON key.",
    defaultAction: "deny",
    source: "(?:^|[^A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])",
    validator: "awsSecret",
  },
  {
    id: "github-token",
    label: "GITHUB_TOKEN",
    description: "GitHub token",
    precision: "ghp_, gho_, ghu_, ghs_ or ghr_ with 36 alphanumerics, or github_pat_ with 22 + 59 alphanumerics.",
    defaultAction: "deny",
    source: "(?:^|[^A-Za-z0-9_])((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?:$|[^A-Za-z0-9_])",
  },
  {
    id: "slack-token",
    label: "SLACK_TOKEN",
    description: "Slack token or incoming webhook",
    precision: "xoxb-, xoxp-, xoxa-, xoxo-, xoxs-, xoxr- tokens with at least two dash-separated parts, xapp- app tokens, and hooks.slack.com webhook URLs.",
    defaultAction: "deny",
    source: "(?:^|[^A-Za-z0-9-])(xox[abposr]-[0-9A-Za-z]{6,}(?:-[0-9A-Za-z]{4,}){1,4}|xapp-\\d-[A-Z0-9]{6,}-\\d{6,}-[a-f0-9]{20,}|https://hooks\\.slack\\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,})",
  },
  {
    id: "stripe-key",
    label: "STRIPE_KEY",
    description: "Stripe secret or restricted key",
    precision: "sk_live_, sk_test_, rk_live_ or rk_test_ with 16 or more alphanumerics. Publishable keys (pk_) are not secrets and are not reported.",
    defaultAction: "deny",
    source: "(?:^|[^A-Za-z0-9_])((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247})(?:$|[^A-Za-z0-9_])",
  },
  {
    id: "google-api-key",
    label: "GOOGLE_API_KEY",
    description: "Google API key",
    precision: "AIza followed by exactly 35 characters of [0-9A-Za-z_-].",
    defaultAction: "deny",
    source: "(?:^|[^A-Za-z0-9_-])(AIza[0-9A-Za-z_-]{35})(?:$|[^A-Za-z0-9_-])",
  },
  {
    id: "jwt",
    label: "JWT",
    description: "JSON Web Token",
    precision: "three base64url parts whose header and payload start as JSON objects; the header must decode to JSON with an \"alg\".",
    defaultAction: "redact",
    source: "(?:^|[^A-Za-z0-9_.-])(eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*)",
    validator: "jwt",
  },
  {
    id: "pem-private-key",
    label: "PRIVATE_KEY",
    description: "PEM private key block",
    precision: `-----BEGIN … PRIVATE KEY----- (RSA, EC, DSA, OpenSSH, encrypted, PGP) through its END line, or through the end of its base64 body when the END line is missing.`,
    defaultAction: "deny",
    source: `-----BEGIN ${PRIVATE_KEY_KIND}-----(?:[\\s\\S]*?-----END ${PRIVATE_KEY_KIND}-----|[A-Za-z0-9+/=\\s:,-]*)`,
  },
  {
    id: "generic-secret",
    label: "SECRET",
    description: "Generic high-entropy secret (opt-in)",
    precision: "a run of 24-512 token characters with at least three character classes and 4+ bits of entropy per character. Noisy on random ids and hashes; enable it by name.",
    defaultAction: "alert",
    optIn: true,
    source: "(?:^|[^A-Za-z0-9_+/-])([A-Za-z0-9_+/-]{24,512}={0,2})(?:$|[^A-Za-z0-9_+/=-])",
    validator: "highEntropy",
  },
];

export const BUILTIN_BY_ID: ReadonlyMap<string, BuiltinPattern> = new Map(BUILTIN_PATTERNS.map((p) => [p.id, p]));
