import { describe, expect, it } from "vitest";
import { checkScope, covers, parseScope, ScopeSyntaxError } from "../../engine/vault/scopes.js";
import { mask, Scrubber } from "../../engine/vault/masking.js";
import { buildMaterial, secretProblem } from "../../engine/vault/credential-material.js";
import { ConnectionBinding, type ScopeKind } from "../../engine/vault/connection-binding.js";
import type { LiveCredential } from "../../engine/vault/live-credential.js";

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
    // A line that does not start with a variable name may be a pasted secret value: never quoted.
    ["env", "A=1\n9sk_live_zzzzzzzz=x", /line 2 does not start with a variable name/],
    ["env", '{"sk_live_zzzzzzzz!": "x"}', /entry 1 does not start with a variable name/],
    ["api-key", "", /empty/],
  ] as const)("a %s secret %j is refused (%s)", (type, secret, message) => {
    const problem = secretProblem(type, secret);
    expect(problem).toMatch(message);
    expect(problem).not.toContain("sk_live_zzzzzzzz");
  });
});

describe("required scopes per kind (connection bindings)", () => {
  const binding = new ConnectionBinding({} as LiveCredential, [
    { tool: "repo.*", scope: "repos:read" },
    { resource: "db://prod/*", scope: "db:prod" },
    { resource: "db://*", scope: "db:any" },
    { prompt: "admin-*", scope: "prompts:admin" },
  ]);
  const required = (name: string, kind?: ScopeKind) => binding.requiredScope(name, kind)?.source;

  it.each([
    ["repo.read", undefined, "repos:read"],
    ["repo.read", "tool", "repos:read"],
    ["db://prod/users", "resource", "db:prod"],
    ["db://staging/users", "resource", "db:any"],
    ["admin-reset", "prompt", "prompts:admin"],
    ["summarize", "prompt", undefined],
    // Kinds do not mix: a tool named like a resource glob needs nothing, and the other way round.
    ["db://prod/users", "tool", undefined],
    ["repo.read", "resource", undefined],
    ["admin-reset", "tool", undefined],
  ] as const)("%s as a %s needs %s", (name, kind, scope) => {
    expect(required(name, kind)).toBe(scope);
  });

  it.each(["DB://PROD/users", "db://ｐｒｏｄ/users", "db://pro\u200Bd/users", "db://prоd/users"])("the look-alike %j needs the scope of db://prod/users", (uri) => {
    expect(required(uri, "resource")).toBe("db:prod");
  });

  it("says which kinds it guards, so lists of other kinds are not filtered", () => {
    expect(binding.guards("resource")).toBe(true);
    expect(new ConnectionBinding({} as LiveCredential, [{ tool: "a", scope: "b" }]).guards("prompt")).toBe(false);
  });
});
