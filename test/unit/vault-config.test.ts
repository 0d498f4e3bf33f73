import { describe, expect, it } from "vitest";
import { parseConfig } from "../../engine/config/load-config.js";
import { SentinelConfigError } from "../../engine/errors.js";

const base = (credentials: string, connections: string, vault = "") => `
version: 1
${vault}
tenants:
  - id: acme
    credentials:
${credentials}
    connections:
${connections}
`;
const httpConn = `      - { name: gh, transport: http, url: "http://127.0.0.1:1/mcp", credential: gh-token }`;
const stdioConn = `      - { name: gh, transport: stdio, command: node, credential: gh-token }`;

describe("credential config", () => {
  it("a credential bound both ways, with scopes and required scopes, loads", () => {
    const text = base(
      `      - { name: gh-token, type: bearer, connections: [gh], scopes: ["repos:read", "charge:create(amount <= 50)"], rotation: { periodDays: 90 } }`,
      `      - { name: gh, transport: http, url: "http://127.0.0.1:1/mcp", credential: gh-token, requiredScopes: [{ tool: "repo.*", scope: "repos:read" }] }`,
      "vault: { rootKey: { provider: env }, drainTimeoutMs: 2000 }",
    );
    expect(parseConfig(text, "s.yaml").tenants[0]!.credentials![0]!.name).toBe("gh-token");
  });

  it("required scopes may guard resources by URI and prompts by name, beside tools", () => {
    const text = base(
      `      - { name: gh-token, type: bearer, connections: [gh], scopes: ["db:read"] }`,
      `      - { name: gh, transport: http, url: "http://127.0.0.1:1/mcp", credential: gh-token, requiredScopes: [{ tool: "repo.*", scope: "repos:read" }, { resource: "db://prod/*", scope: "db:read" }, { prompt: "admin-*", scope: "admin" }] }`,
    );
    expect(parseConfig(text, "s.yaml").tenants[0]!.connections![0]!.requiredScopes).toEqual([
      { tool: "repo.*", scope: "repos:read" },
      { resource: "db://prod/*", scope: "db:read" },
      { prompt: "admin-*", scope: "admin" },
    ]);
  });

  it("an OAuth credential can be used by a stdio connection when it names the variable for the access token", () => {
    const text = base(`      - { name: gh-token, type: oauth-client-credentials, envVar: ACCESS_TOKEN, connections: [gh], oauth: { tokenUrl: "http://127.0.0.1:1/token", clientId: c } }`, stdioConn);
    expect(parseConfig(text, "s.yaml").tenants[0]!.credentials![0]!.envVar).toBe("ACCESS_TOKEN");
  });

  it.each([
    ["a secret written in the config", `      - { name: gh-token, type: bearer, connections: [gh], secret: "ghp_x" }`, httpConn, "tenants[0].credentials[0].secret", "unknown property"],
    ["an unknown connection", `      - { name: gh-token, type: bearer, connections: [nope] }`, httpConn, "tenants[0].credentials[0].connections[0]", 'no connection "nope"'],
    ["a connection naming an unbound credential", `      - { name: gh-token, type: bearer, connections: [other] }\n      - { name: x, type: bearer, connections: [gh] }`, `${httpConn}\n      - { name: other, transport: http, url: "http://127.0.0.1:1/mcp" }`, "tenants[0].connections[0].credential", "is not bound to connection"],
    ["a bad granted scope", `      - { name: gh-token, type: bearer, connections: [gh], scopes: ["repos::read"] }`, httpConn, "tenants[0].credentials[0].scopes[0]", "is not a scope"],
    ["an env credential on http", `      - { name: gh-token, type: env, connections: [gh] }`, httpConn, "tenants[0].credentials[0].connections[0]", "only be used by stdio"],
    ["OAuth on stdio without envVar", `      - { name: gh-token, type: oauth-client-credentials, connections: [gh], oauth: { tokenUrl: "http://127.0.0.1:1/token", clientId: c } }`, stdioConn, "tenants[0].credentials[0].connections[0]", 'need "envVar"'],
    ["a bearer on stdio without envVar", `      - { name: gh-token, type: bearer, connections: [gh] }`, stdioConn, "tenants[0].credentials[0].connections[0]", 'need "envVar"'],
    ["an api-key on http without header", `      - { name: gh-token, type: api-key, connections: [gh] }`, httpConn, "tenants[0].credentials[0].connections[0]", 'need "header"'],
    ["basic without username", `      - { name: gh-token, type: basic, connections: [gh] }`, httpConn, "tenants[0].credentials[0].username", "need a username"],
    ["a template without {secret}", `      - { name: gh-token, type: bearer, connections: [gh], template: "token" }`, httpConn, "tenants[0].credentials[0].template", '"{secret}" exactly once'],
    ["a connection header the credential sets", `      - { name: gh-token, type: bearer, connections: [gh] }`, `      - { name: gh, transport: http, url: "http://127.0.0.1:1/mcp", credential: gh-token, headers: { Authorization: x } }`, "tenants[0].connections[0].headers", "is set by credential"],
    ["required scopes without a credential", `      - { name: gh-token, type: bearer, connections: [gh] }`, `      - { name: gh, transport: http, url: "http://127.0.0.1:1/mcp", credential: gh-token }\n      - { name: x, transport: http, url: "http://127.0.0.1:1/mcp", requiredScopes: [{ tool: a, scope: b }] }`, "tenants[0].connections[1].requiredScopes", "need a credential"],
    ["a required scope naming both a tool and a resource", `      - { name: gh-token, type: bearer, connections: [gh] }`, `      - { name: gh, transport: http, url: "http://127.0.0.1:1/mcp", credential: gh-token, requiredScopes: [{ tool: a, resource: "db://*", scope: b }] }`, "tenants[0].connections[0].requiredScopes[0]", 'exactly one of "tool", "resource" or "prompt"'],
    ["a required scope naming nothing to guard", `      - { name: gh-token, type: bearer, connections: [gh] }`, `      - { name: gh, transport: http, url: "http://127.0.0.1:1/mcp", credential: gh-token, requiredScopes: [{ scope: b }] }`, "tenants[0].connections[0].requiredScopes[0]", 'exactly one of "tool", "resource" or "prompt"'],
    ["a required scope with an unknown kind", `      - { name: gh-token, type: bearer, connections: [gh] }`, `      - { name: gh, transport: http, url: "http://127.0.0.1:1/mcp", credential: gh-token, requiredScopes: [{ model: "gpt-*", scope: b }] }`, "tenants[0].connections[0].requiredScopes[0].model", "unknown property"],
    ["a bad resource glob", `      - { name: gh-token, type: bearer, connections: [gh] }`, `      - { name: gh, transport: http, url: "http://127.0.0.1:1/mcp", credential: gh-token, requiredScopes: [{ resource: "db://[prod", scope: b }] }`, "tenants[0].connections[0].requiredScopes[0].resource", "["],
    ["a bad prompt scope", `      - { name: gh-token, type: bearer, connections: [gh] }`, `      - { name: gh, transport: http, url: "http://127.0.0.1:1/mcp", credential: gh-token, requiredScopes: [{ prompt: "admin-*", scope: "a::b" }] }`, "tenants[0].connections[0].requiredScopes[0].scope", "is not a scope"],
    ["a constrained required scope", `      - { name: gh-token, type: bearer, connections: [gh] }`, `      - { name: gh, transport: http, url: "http://127.0.0.1:1/mcp", credential: gh-token, requiredScopes: [{ tool: a, scope: "c:d(amount < 1)" }] }`, "tenants[0].connections[0].requiredScopes[0].scope", "has no constraints"],
  ])("%s is refused with its path", (_what, credentials, connections, path, reason) => {
    const error = (() => {
      try {
        parseConfig(base(credentials, connections), "s.yaml");
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SentinelConfigError);
    expect((error as SentinelConfigError).path).toBe(path);
    expect((error as SentinelConfigError).reason).toContain(reason);
  });
});
