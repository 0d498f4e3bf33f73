import { describe, expect, it } from "vitest";
import { compileConfig } from "../../engine/config/compile-config.js";
import { parseConfig } from "../../engine/config/load-config.js";
import { SentinelConfigError } from "../../engine/errors.js";

const FILE = "sentinel.yaml";
/** A one-tenant config; `body` is indented under the tenant. */
const tenant = (body: string) => `version: 1\ntenants:\n  - id: acme\n${body.replace(/^/gm, "    ")}\n`;

const failure = (text: string) => {
  try {
    parseConfig(text, FILE, { env: {} });
  } catch (err) {
    if (!(err instanceof SentinelConfigError)) throw err;
    return { path: err.path, reason: err.reason };
  }
  throw new Error("expected a SentinelConfigError, but the config loaded");
};

describe("guard, limits, token caps and prices in the config", () => {
  it("a full section loads and compiles", () => {
    const config = parseConfig(
      tenant(`guard:
  builtins: ["*", { id: generic-secret, action: alert }]
  patterns:
    - { id: employee-id, pattern: "EMP-\\\\d{6}", action: redact }
    - { id: codenames, keywords: [Project Falcon, blue harbor], action: deny, label: CODENAME }
  responseInspection: true
limits:
  - { id: user-rpm, scope: user, metric: requests, window: minute, max: 100 }
  - { id: stripe-dollars, scope: tenant, tools: "stripe.*", metric: dollars, window: hour, max: 25 }
  - { id: gpt-tokens, scope: model, models: "gpt-4*", metric: tokens, window: day, max: 1000000 }
tokenCaps: { input: 4000, output: 8000, total: 10000 }
prices:
  models: [{ pattern: "gpt-4o*", inputPerMillion: 2.5, outputPerMillion: 10 }]
  tools: [{ pattern: stripe.charge, argument: amount, scale: 0.01 }]`),
      FILE,
      { env: {} },
    );
    expect(config.tenants[0]!.guard).toMatchObject({ offloadBytes: 65536, responseInspection: true });
    const sg = compileConfig(config, FILE).tenants.get("acme")!.safeguards!;
    expect(sg.guard!.spec.patterns.map((p) => p.id)).toContain("generic-secret");
    expect(sg.guard!.spec.patterns.find((p) => p.id === "codenames")!.label).toBe("CODENAME");
    expect(sg.guard!.spec.patterns.find((p) => p.id === "employee-id")!.label).toBe("EMPLOYEE_ID");
    expect(sg.limits!.limits.map((l) => l.id)).toEqual(["user-rpm", "stripe-dollars", "gpt-tokens"]);
    expect(sg.countsTokens).toBe(true);
  });

  it("a tenant with none of them compiles to nothing to do", () => {
    const config = parseConfig(tenant("policies: []"), FILE, { env: {} });
    expect(compileConfig(config, FILE).tenants.get("acme")!.safeguards).toBeUndefined();
  });

  it.each([
    ["a backreference", `guard:\n  patterns:\n    - { id: repeat, pattern: "(a)\\\\1", action: deny }`, "tenants[0].guard.patterns[0].pattern", /pattern "repeat" is not valid RE2 syntax .*backreferences/],
    ["a lookahead", `guard:\n  patterns:\n    - { id: ok, pattern: "x", action: alert }\n    - { id: ahead, pattern: "foo(?=bar)", action: deny }`, "tenants[0].guard.patterns[1].pattern", /pattern "ahead" is not valid RE2 syntax/],
    ["a lookbehind", `guard:\n  patterns:\n    - { id: behind, pattern: "(?<=a)b", action: deny }`, "tenants[0].guard.patterns[0].pattern", /pattern "behind"/],
    ["a pattern matching the empty string", `guard:\n  patterns:\n    - { id: nothing, pattern: "a*", action: alert }`, "tenants[0].guard.patterns[0].pattern", /matches the empty string/],
    ["an unknown built-in", `guard:\n  builtins: [us-ssn, passport]`, "tenants[0].guard.builtins[1]", /unknown built-in pattern "passport"/],
    ["a custom pattern reusing a built-in id", `guard:\n  patterns:\n    - { id: email, pattern: "x", action: alert }`, "tenants[0].guard.patterns[0].id", /is a built-in pattern id/],
    ["two patterns with one id", `guard:\n  patterns:\n    - { id: a, pattern: "x", action: alert }\n    - { id: a, keywords: [y], action: alert }`, "tenants[0].guard.patterns[1].id", /duplicate guard pattern id "a"/],
    ["both a pattern and keywords", `guard:\n  patterns:\n    - { id: a, pattern: "x", keywords: [y], action: alert }`, "tenants[0].guard.patterns[0]", /either "pattern" or "keywords"/],
    ["a blank keyword", `guard:\n  patterns:\n    - { id: a, keywords: ["  "], action: alert }`, "tenants[0].guard.patterns[0].keywords[0]", /must not be empty/],
    ["an unknown action", `guard:\n  patterns:\n    - { id: a, pattern: "x", action: block }`, "tenants[0].guard.patterns[0].action", /must be one of "deny", "redact", "alert"/],
    ["a duplicate limit id", `limits:\n  - { id: l, scope: user, metric: requests, window: minute, max: 1 }\n  - { id: l, scope: user, metric: tokens, window: hour, max: 1 }`, "tenants[0].limits[1].id", /duplicate limit id "l"/],
    ["a tool scope filtered by models", `limits:\n  - { id: l, scope: tool, models: "gpt*", metric: requests, window: minute, max: 1 }`, "tenants[0].limits[0].models", /filter them with "tools"/],
    ["a bad glob in a limit", `limits:\n  - { id: l, scope: user, tools: "a[b", metric: requests, window: minute, max: 1 }`, "tenants[0].limits[0].tools", /./],
    ["an unknown window", `limits:\n  - { id: l, scope: user, metric: requests, window: week, max: 1 }`, "tenants[0].limits[0].window", /must be one of "minute", "hour", "day"/],
    ["a zero max", `limits:\n  - { id: l, scope: user, metric: requests, window: minute, max: 0 }`, "tenants[0].limits[0].max", /must be > 0/],
    ["a bad argument path in a price", `prices:\n  tools: [{ pattern: stripe.charge, argument: "a..b" }]`, "tenants[0].prices.tools[0].argument", /bad path/],
    ["a negative token cap", `tokenCaps: { input: -1 }`, "tenants[0].tokenCaps.input", /must be >= 1/],
  ])("%s is refused at load, naming the path", (_what, body, path, reason) => {
    const f = failure(tenant(body));
    expect(f.path).toBe(path);
    expect(f.reason).toMatch(reason);
  });
});
