import { describe, expect, it } from "vitest";
import { checkScope, covers, parseScope, ScopeSyntaxError } from "../../engine/vault/scopes.js";
import { mask, Scrubber } from "../../engine/vault/masking.js";
import { buildMaterial, secretProblem } from "../../engine/vault/credential-material.js";

const grants = (...s: string[]) => s.map(parseScope);

describe("scopes", () => {
  it.each([
    ["repos:read", "repos:read", true],
    ["repos:*", "repos:read", true],
    ["repos:*", "repos:admin:delete", true],
    ["*", "ddl:create", true],
    ["repos:read", "repos:write", false],
    ["repos:read", "repos:read:all", false],
    ["ddl:create", "ddl:*", false],
    ["ddl:*", "ddl:*", true],
    ["*:read", "repos:read", true],
    ["*:read", "repos:write", false],
  ])("granted %s covers required %s: %s", (grant, required, expected) => {
    expect(covers(parseScope(grant), parseScope(required))).toBe(expected);
  });

  it.each([
    [{ amount: 50 }, true],
    [{ amount: 49.99 }, true],
    [{ amount: 51 }, false],
    [{ amount: "10" }, false],
    [{}, false],
  ])("charge:create(amount <= 50) with %j: %s", (args, ok) => {
    expect(checkScope("stripe", grants("charge:create(amount <= 50)"), parseScope("charge:create"), args).ok).toBe(ok);
  });

  it("constraints combine with AND, nest with dots, and accept ≤ ≥ ≠ and quoted strings", () => {
    const g = grants('charge:create(amount ≤ 50, currency == "usd", customer.country ≠ KP)');
    const required = parseScope("charge:create");
    expect(checkScope("s", g, required, { amount: 5, currency: "usd", customer: { country: "FR" } }).ok).toBe(true);
    expect(checkScope("s", g, required, { amount: 5, currency: "eur", customer: { country: "FR" } }).ok).toBe(false);
    expect(checkScope("s", g, required, { amount: 5, currency: "usd", customer: { country: "KP" } }).ok).toBe(false);
  });

  it("any one covering grant is enough: an unconstrained grant beside a constrained one allows all", () => {
    expect(checkScope("s", grants("charge:create(amount <= 50)", "charge:*"), parseScope("charge:create"), { amount: 900 }).ok).toBe(true);
  });

  it("the refusal names the credential and the missing scope", () => {
    expect(checkScope("postgres-prod", grants("db:read"), parseScope("ddl:*"), {})).toEqual({ ok: false, reason: "credential postgres-prod lacks scope ddl:*" });
  });

  it.each(["", "repos::read", "repos:re ad", "charge:create(amount <= )", "charge:create(amount 50)", "charge:create()", 'charge:create(a == "x)', "charge:create(amount <= fifty)", "charge:create(amount <= 5"])(
    "%j is not a scope",
    (text) => {
      expect(() => parseScope(text)).toThrow(ScopeSyntaxError);
    },
  );
});

describe("masking and scrubbing", () => {
  it.each([
    ["ghp_k7Qz2vX9mB4nR8tL1wP6sY3cF5hJ0dG8a4f", "ghp_•••8a4f"],
    ["short-but-12", "•••t-12"],
    ["tiny", "•••"],
  ])("%s is shown as %s", (secret, shown) => {
    expect(mask(secret)).toBe(shown);
  });

  it("scrubs every occurrence in nested JSON, keys included, and returns untouched values as they are", () => {
    const s = new Scrubber(["sk_live_abcdef123456"]);
    const clean = { a: [1, { b: "nothing here" }] };
    expect(s.json(clean)).toBe(clean);
    expect(s.json({ ["k sk_live_abcdef123456"]: ["x sk_live_abcdef123456 y sk_live_abcdef123456"] })).toEqual({ "k •••3456": ["x •••3456 y •••3456"] });
  });

  it("every wire form of a secret is scrubbed: basic auth's base64, a database URL's password", () => {
    const basic = buildMaterial({ name: "b", type: "basic", username: "svc", connections: ["x"] }, "hunter2-hunter2");
    expect(basic.headers).toEqual({ authorization: `Basic ${Buffer.from("svc:hunter2-hunter2").toString("base64")}` });
    expect(basic.scrub).toContain(Buffer.from("svc:hunter2-hunter2").toString("base64"));
    const db = buildMaterial({ name: "d", type: "database-url", connections: ["x"] }, "postgres://app:p%40ss-w0rd!@db/prod");
    expect(db.env).toEqual({ DATABASE_URL: "postgres://app:p%40ss-w0rd!@db/prod" });
    expect(db.scrub).toEqual(expect.arrayContaining(["p%40ss-w0rd!", "p@ss-w0rd!"]));
  });

  it("an env credential's secret is KEY=VALUE lines, each value scrubbed", () => {
    const m = buildMaterial({ name: "aws", type: "env", connections: ["x"] }, "# aws\nAWS_ACCESS_KEY_ID=AKIAEXAMPLE123\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG\n");
    expect(m.env).toEqual({ AWS_ACCESS_KEY_ID: "AKIAEXAMPLE123", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG" });
    expect(m.scrub).toEqual(expect.arrayContaining(["AKIAEXAMPLE123", "wJalrXUtnFEMI/K7MDENG"]));
  });

  it.each([
    ["bearer", "tok\r\nX-Injected: 1", /line break/],
    ["database-url", "not a url", /must be a URL/],
    ["env", "NOT A LINE", /KEY=VALUE/],
    ["env", '{"A": 1}', /must be a string/],
    ["env", "{broken json sk_live_zzzzzzzz", /not a valid JSON object/],
    ["api-key", "", /empty/],
  ] as const)("a %s secret %j is refused (%s)", (type, secret, message) => {
    const problem = secretProblem(type, secret);
    expect(problem).toMatch(message);
    expect(problem).not.toContain("sk_live_zzzzzzzz");
  });
});
