/**
 * Content Guard cases shared by the tests and the benchmarks: for every built-in pattern, true
 * positives, near misses that must not match, and obfuscated variants that must still match;
 * and a generated corpus of tool-argument text of any size, mostly clean, with findings sprinkled
 * through it at a realistic rate.
 */
export interface GuardCase {
  /** The text scanned. */
  readonly text: string;
  /** The part of `text` the finding must cover (default: all of it). */
  readonly value?: string;
  /** The JSON key the text sits under, for patterns that use it as context. */
  readonly key?: string;
}

export interface PatternCases {
  readonly positives: readonly GuardCase[];
  readonly negatives: readonly GuardCase[];
  readonly obfuscated: readonly GuardCase[];
}

const ZW = "\u200B";
const ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** A deterministic mixed-case alphanumeric string of length n (no real credential). */
const token = (n: number, seed = 7): string => Array.from({ length: n }, (_, i) => ALNUM[(i * 31 + seed * 17 + ((i * i) % 11)) % ALNUM.length]).join("");
/** Full-width forms of ASCII letters and digits (U+FF01..U+FF5E). */
const wide = (s: string): string => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
const ctx = (text: string, value: string): GuardCase => ({ text, value });

const GH = token(36);
const GOOGLE = `AIza${token(35, 3).slice(0, 33)}-_`;
const STRIPE = `sk_live_${token(24, 5)}`;
const JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const PEM_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQz";

export const BUILTIN_CASES: Readonly<Record<string, PatternCases>> = {
  "us-ssn": {
    positives: [ctx("SSN 123-45-6789 on file", "123-45-6789"), ctx("ssn: 078-05-1120", "078-05-1120"), ctx("123 45 6789", "123 45 6789"), ctx("ssn123-45-6789", "123-45-6789")],
    negatives: [{ text: "000-12-3456" }, { text: "666-12-3456" }, { text: "912-34-5678" }, { text: "123-00-4567" }, { text: "123-45-0000" }, { text: "123-45-67890" }, { text: "1123-45-6789" }, { text: "123456789" }, { text: "call 123-456-7890" }],
    obfuscated: [ctx("ssn １２３-４５-６７８９", "１２３-４５-６７８９"), ctx(`123${ZW}-45-6789`, `123${ZW}-45-6789`), ctx("١٢٣-٤٥-٦٧٨٩", "١٢٣-٤٥-٦٧٨٩"), ctx("123‒45‒6789", "123‒45‒6789"), ctx("123\u202E-45-6789", "123\u202E-45-6789")],
  },
  "payment-card": {
    positives: [ctx("card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"), ctx("5500-0000-0000-0004", "5500-0000-0000-0004"), ctx("amex 378282246310005", "378282246310005"), ctx("6011111111111117", "6011111111111117"), ctx("jcb:3530111333300000", "3530111333300000")],
    negatives: [{ text: "4111 1111 1111 1112" }, { text: "1234 5678 9012 3456" }, { text: "4111 1111 1111" }, { text: "order 41111111111111111111111" }, { text: "0000 0000 0000 0000" }],
    obfuscated: [ctx(wide("4111 1111 1111 1111"), wide("4111 1111 1111 1111")), ctx(`4111${ZW}1111${ZW}1111${ZW}1111`, `4111${ZW}1111${ZW}1111${ZW}1111`), ctx("4111–1111–1111–1111", "4111–1111–1111–1111")],
  },
  email: {
    positives: [ctx("mail alice@example.com today", "alice@example.com"), ctx("bob.smith+tag@mail.example.co.uk", "bob.smith+tag@mail.example.co.uk"), ctx("<x_y%z@sub-domain.example.org>", "x_y%z@sub-domain.example.org")],
    negatives: [{ text: "alice@localhost" }, { text: "alice@example" }, { text: "@example.com" }, { text: "alice@.com" }, { text: "alice@example.c" }, { text: "alice at example dot com" }],
    obfuscated: [ctx("alice＠example.com", "alice＠example.com"), ctx(`al${ZW}ice@exam\u200Dple.com`, `al${ZW}ice@exam\u200Dple.com`), ctx("\u0430lice@example.com", "\u0430lice@example.com")],
  },
  "phone-e164": {
    positives: [ctx("call +14155552671", "+14155552671"), ctx("+44 20 7946 0958", "+44 20 7946 0958"), ctx("tel:+49-30-901820", "+49-30-901820")],
    negatives: [{ text: "+0123456789" }, { text: "+1234567" }, { text: "+1234567890123456" }, { text: "a+14155552671" }],
    obfuscated: [ctx("＋１４１５５５５２６７１", "＋１４１５５５５２６７１"), ctx(`+1415${ZW}5552671`, `+1415${ZW}5552671`)],
  },
  "phone-nanp": {
    positives: [ctx("call (415) 555-2671", "(415) 555-2671"), ctx("415-555-2671", "415-555-2671"), ctx("415.555.2671", "415.555.2671"), ctx("+1 415 555 2671", "+1 415 555 2671"), ctx("1-800-555-0199", "1-800-555-0199")],
    negatives: [{ text: "4155552671" }, { text: "(015) 555-2671" }, { text: "415-155-2671" }, { text: "415-555-26710" }],
    obfuscated: [ctx("(４１５) ５５５-２６７１", "(４１５) ５５５-２６７１"), ctx("415‐555‐2671", "415‐555‐2671"), ctx(`415${ZW}-555-2671`, `415${ZW}-555-2671`)],
  },
  iban: {
    positives: [ctx("IBAN DE89 3704 0044 0532 0130 00 is mine", "DE89 3704 0044 0532 0130 00"), ctx("GB82WEST12345698765432", "GB82WEST12345698765432"), ctx("FR1420041010050500013M02606", "FR1420041010050500013M02606"), ctx("to NL91ABNA0417164300.", "NL91ABNA0417164300")],
    negatives: [{ text: "DE89 3704 0044 0532 0130 01" }, { text: "XX89370400440532013000" }, { text: "DE8937040044053201300" }, { text: "GB82WEST1234569876543" }],
    obfuscated: [ctx("de89 3704 0044 0532 0130 00", "de89 3704 0044 0532 0130 00"), ctx(`${wide("DE89")} 3704 0044 0532 0130 00`, `${wide("DE89")} 3704 0044 0532 0130 00`), ctx(`DE89${ZW}370400440532013000`, `DE89${ZW}370400440532013000`)],
  },
  ipv4: {
    positives: [ctx("host 10.0.0.1 up", "10.0.0.1"), ctx("192.168.1.254", "192.168.1.254"), ctx("dns 8.8.8.8.", "8.8.8.8"), ctx("255.255.255.255", "255.255.255.255")],
    negatives: [{ text: "256.1.1.1" }, { text: "1.2.3" }, { text: "1.2.3.4.5" }, { text: "192.168.001.1" }],
    obfuscated: [ctx(wide("10.0.0.1"), wide("10.0.0.1")), ctx(`10${ZW}.0.0.1`, `10${ZW}.0.0.1`)],
  },
  ipv6: {
    positives: [ctx("addr 2001:db8::ff00:42:8329 up", "2001:db8::ff00:42:8329"), ctx("fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a"), ctx("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"), ctx("::ffff:192.0.2.128", "::ffff:192.0.2.128")],
    negatives: [{ text: "at 12:30:45" }, { text: "std::vector" }, { text: " a::b " }, { text: "2001:db8:::1" }, { text: "::1" }],
    obfuscated: [ctx(`${wide("2001")}:db8::ff00:42:8329`, `${wide("2001")}:db8::ff00:42:8329`), ctx(`2001:db8::ff00${ZW}:42:8329`, `2001:db8::ff00${ZW}:42:8329`)],
  },
  "aws-access-key-id": {
    positives: [ctx("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"), ctx("id ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A"), ctx("key=AKIAIOSFODNN7EXAMPLE;", "AKIAIOSFODNN7EXAMPLE")],
    negatives: [{ text: "AKIAIOSFODNN7EXAMPL" }, { text: "AKIAIOSFODNN7EXAMPLEX" }, { text: "akiaiosfodnn7example" }, { text: "AKIA1OSFODNN7EXAMPLE" }, { text: "XKIAIOSFODNN7EXAMPLE" }],
    obfuscated: [ctx("\u0410KIAIOSFODNN7EXAMPLE", "\u0410KIAIOSFODNN7EXAMPLE"), ctx(`${wide("AKIA")}IOSFODNN7EXAMPLE`, `${wide("AKIA")}IOSFODNN7EXAMPLE`), ctx(`AKIA${ZW}IOSFODNN7EXAMPLE`, `AKIA${ZW}IOSFODNN7EXAMPLE`)],
  },
  "aws-secret-access-key": {
    positives: [ctx(`aws_secret_access_key = ${AWS_SECRET}`, AWS_SECRET), ctx(`AWS secret: "${AWS_SECRET}"`, AWS_SECRET), { text: AWS_SECRET, value: AWS_SECRET, key: "aws_secret_access_key" }],
    negatives: [{ text: AWS_SECRET }, { text: `aws_secret = ${"a".repeat(40)}` }, { text: "aws sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12" }, { text: `aws_secret=${AWS_SECRET}X` }],
    obfuscated: [ctx(`aws_secret_access_key = ${AWS_SECRET.slice(0, 20)}${ZW}${AWS_SECRET.slice(20)}`, `${AWS_SECRET.slice(0, 20)}${ZW}${AWS_SECRET.slice(20)}`), ctx(`secret: ${wide("wJalr")}${AWS_SECRET.slice(5)}`, `${wide("wJalr")}${AWS_SECRET.slice(5)}`)],
  },
  "github-token": {
    positives: [ctx(`token ghp_${GH}`, `ghp_${GH}`), ctx(`gho_${GH}`, `gho_${GH}`), ctx(`"ghs_${GH}"`, `ghs_${GH}`), ctx(`github_pat_${token(22, 2)}_${token(59, 4)}`, `github_pat_${token(22, 2)}_${token(59, 4)}`)],
    negatives: [{ text: `ghp_${GH.slice(1)}` }, { text: `ghx_${GH}` }, { text: `ghp_${GH}a` }, { text: `ghp-${GH}` }],
    obfuscated: [ctx(`${wide("ghp")}_${GH}`, `${wide("ghp")}_${GH}`), ctx(`ghp_${ZW}${GH}`, `ghp_${ZW}${GH}`)],
  },
  "slack-token": {
    positives: [
      ctx("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
      ctx("xoxp-123456789012-123456789012-123456789012-0123456789abcdef0123456789abcdef", "xoxp-123456789012-123456789012-123456789012-0123456789abcdef0123456789abcdef"),
      ctx("post to https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/AbCdEfGhIjKlMnOpQrStUvWx", "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/AbCdEfGhIjKlMnOpQrStUvWx"),
      ctx("xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef", "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"),
    ],
    negatives: [{ text: "xoxb-123" }, { text: "xoxz-123456789012-1234567890123-AbCd" }, { text: "xoxb-AbCdEfGhIj" }, { text: "https://hooks.slack.com/services/invalid" }],
    obfuscated: [
      ctx(`${wide("xoxb")}-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx`, `${wide("xoxb")}-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx`),
      ctx(`xoxb-123456789012${ZW}-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx`, `xoxb-123456789012${ZW}-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx`),
    ],
  },
  "stripe-key": {
    positives: [ctx(`key ${STRIPE}`, STRIPE), ctx(`rk_test_${token(30, 9)}`, `rk_test_${token(30, 9)}`), ctx(`"sk_test_${token(99, 1)}"`, `sk_test_${token(99, 1)}`)],
    negatives: [{ text: `pk_live_${token(24, 5)}` }, { text: "sk_live_short123" }, { text: `sk_prod_${token(24, 5)}` }, { text: `mysk_live_${token(24, 5)}` }],
    obfuscated: [ctx(`${wide("sk")}_live_${token(24, 5)}`, `${wide("sk")}_live_${token(24, 5)}`), ctx(`sk_live_${ZW}${token(24, 5)}`, `sk_live_${ZW}${token(24, 5)}`)],
  },
  "google-api-key": {
    positives: [ctx(`key=${GOOGLE}&q=1`, GOOGLE), ctx(GOOGLE, GOOGLE)],
    negatives: [{ text: GOOGLE.slice(0, -1) }, { text: `${GOOGLE}A` }, { text: `AIzb${GOOGLE.slice(4)}` }, { text: `aiza${GOOGLE.slice(4)}` }],
    obfuscated: [ctx(`${wide("AIza")}${GOOGLE.slice(4)}`, `${wide("AIza")}${GOOGLE.slice(4)}`), ctx(`AIza${ZW}${GOOGLE.slice(4)}`, `AIza${ZW}${GOOGLE.slice(4)}`)],
  },
  jwt: {
    positives: [ctx(`Authorization: Bearer ${JWT}`, JWT), ctx("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.")],
    negatives: [{ text: "eyJhbGciOiJIUzI1NiJ9" }, { text: "eyJub3RhbGciOjF9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig" }, { text: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.notjsonatall.sig" }],
    obfuscated: [ctx(`${JWT.slice(0, 30)}${ZW}${JWT.slice(30)}`, `${JWT.slice(0, 30)}${ZW}${JWT.slice(30)}`), ctx(`${wide("eyJ")}${JWT.slice(3)}`, `${wide("eyJ")}${JWT.slice(3)}`)],
  },
  "pem-private-key": {
    positives: [
      ctx(`key:\n-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n-----END RSA PRIVATE KEY-----\n`, `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n-----END RSA PRIVATE KEY-----`),
      ctx(`-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----`, `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----`),
      ctx(`-----BEGIN OPENSSH PRIVATE KEY-----\n${PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----`, `-----BEGIN OPENSSH PRIVATE KEY-----\n${PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----`),
      ctx(`-----BEGIN EC PRIVATE KEY-----\n${PEM_BODY}`, `-----BEGIN EC PRIVATE KEY-----\n${PEM_BODY}`),
    ],
    negatives: [{ text: `-----BEGIN PUBLIC KEY-----\n${PEM_BODY}\n-----END PUBLIC KEY-----` }, { text: `-----BEGIN CERTIFICATE-----\n${PEM_BODY}` }, { text: "BEGIN RSA PRIVATE KEY" }],
    obfuscated: [
      ctx(`-----BEGIN RSA PRIVATE${ZW} KEY-----\n${PEM_BODY}\n-----END RSA PRIVATE KEY-----`, `-----BEGIN RSA PRIVATE${ZW} KEY-----\n${PEM_BODY}\n-----END RSA PRIVATE KEY-----`),
      ctx(`－－－－－BEGIN PRIVATE KEY－－－－－\n${PEM_BODY}\n-----END PRIVATE KEY-----`, `－－－－－BEGIN PRIVATE KEY－－－－－\n${PEM_BODY}\n-----END PRIVATE KEY-----`),
    ],
  },
  "generic-secret": {
    positives: [ctx("token=Zx8q2LmP9vR4tY7wK1nB6cJ3hF5gD0sA done", "Zx8q2LmP9vR4tY7wK1nB6cJ3hF5gD0sA"), ctx("AbC123xYz789QwE456rTy012UiOp", "AbC123xYz789QwE456rTy012UiOp")],
    negatives: [{ text: "this_is_a_very_long_identifier_name" }, { text: "0123456789abcdef0123456789abcdef" }, { text: "short1A!" }],
    obfuscated: [ctx(`Zx8q2LmP9vR4${ZW}tY7wK1nB6cJ3hF5gD0sA`, `Zx8q2LmP9vR4${ZW}tY7wK1nB6cJ3hF5gD0sA`)],
  },
};

// ---------------------------------------------------------------------------------------------
// A corpus for throughput: JSON tool arguments the way agents send them.
// ---------------------------------------------------------------------------------------------

const WORDS = (
  "the customer asked about their order status and shipping address please summarise the ticket history " +
  "include the account owner and the last invoice total for the quarter with notes from the support team " +
  "deploy service api gateway region eu-west-1 build 4821 passed tests latency p99 under budget release notes"
).split(" ");

/** A deterministic generator (mulberry32), so every run scans the same bytes. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPRINKLE = ["alice@example.com", "123-45-6789", "4111 1111 1111 1111", "(415) 555-2671", "10.0.0.1", "AKIAIOSFODNN7EXAMPLE"];

/**
 * A JSON-serialisable tool-argument object of about `bytes` bytes: records with ids, dates,
 * URLs and prose, one finding per ~2 KiB (the rest is clean, as most traffic is).
 */
export function guardCorpus(bytes: number, seed = 1): { records: Array<Record<string, string | number>> } {
  const rand = prng(seed);
  const records: Array<Record<string, string | number>> = [];
  let size = 0;
  let n = 0;
  while (size < bytes) {
    const words = Array.from({ length: 30 + Math.floor(rand() * 30) }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(" ");
    const note = n % 8 === 7 ? `${words} contact ${SPRINKLE[(n >> 3) % SPRINKLE.length]} thanks` : words;
    const record = {
      id: `ord_${Math.floor(rand() * 1e9).toString(36)}`,
      created: `2026-0${1 + (n % 9)}-1${n % 10}T10:${10 + (n % 50)}:00Z`,
      url: `https://shop.example.com/orders/${n}?ref=${Math.floor(rand() * 1e6)}`,
      amount: Math.round(rand() * 100000) / 100,
      note,
    };
    size += JSON.stringify(record).length + 1;
    records.push(record);
    n++;
  }
  return { records };
}
