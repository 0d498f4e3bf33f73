import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SentinelConfigError } from "../../engine/errors.js";
import { loadConfigFile, parseConfig, SENTINEL_HOME, SERVER_DEFAULTS } from "../../engine/config/load-config.js";
import { compileConfig } from "../../engine/config/compile-config.js";
import type { PolicyConfig, SentinelConfig } from "../../engine/config/types.js";

const FILE = "sentinel.yaml";
const HASH_A = `sha256:${"a".repeat(64)}`;
const HASH_B = `sha256:${"b".repeat(64)}`;
const DEMO = fileURLToPath(new URL("../../examples/demo/sentinel.yaml", import.meta.url));

const load = (text: string, env: Record<string, string> = {}): SentinelConfig => parseConfig(text, FILE, { env });

/** The SentinelConfigError a config raises, as plain fields. */
const failure = (text: string, env: Record<string, string> = {}) => {
  try {
    load(text, env);
  } catch (err) {
    if (!(err instanceof SentinelConfigError)) throw err;
    return { file: err.file, path: err.path, reason: err.reason };
  }
  throw new Error("expected a SentinelConfigError, but the config loaded");
};

/** A one-tenant config; `body` is indented under the tenant. */
const tenant = (body: string) => `version: 1\ntenants:\n  - id: acme\n${body.replace(/^/gm, "    ")}\n`;

const VALID = `
version: 1
tenants:
  - id: acme
    name: Acme Corp
    apiKeys:
      - { id: ci, hash: "${HASH_A}" }
      - { id: old, hash: "${HASH_B}", revoked: true }
    connections:
      - { name: github-prod, transport: stdio, command: node, args: [server.js] }
      - { name: search, transport: http, url: "https://search.internal/mcp" }
    policies:
      - id: repo-read
        target: mcp.tool
        pattern: repo.read
        conditions:
          - { field: role, op: in, value: [developer, admin] }
        action: allow
      - { id: catch-all, target: mcp.tool, pattern: "*", action: deny }
`;

describe("a valid config", () => {
  it("loads with the server defaults filled in", () => {
    const config = load(VALID);
    expect(config.version).toBe(1);
    expect(config.server).toEqual(SERVER_DEFAULTS);
    expect(config.server).toMatchObject({ host: "127.0.0.1", port: 8080, maxBodyBytes: 4 * 1024 * 1024, sessionIdleTimeoutMs: 1_800_000 });
    expect(config.tenants.map((t) => t.id)).toEqual(["acme"]);
    expect(config.tenants[0]!.connections!.map((c) => c.name)).toEqual(["github-prod", "search"]);
  });

  it.each<[string, Record<string, unknown>]>([
    ["a port", { port: 9000 }],
    ["a host", { host: "0.0.0.0" }],
    ["allowlists", { allowedHosts: ["gw.example.com"], allowedOrigins: ["https://app.example.com"] }],
    ["a body limit and idle timeout", { maxBodyBytes: 2048, sessionIdleTimeoutMs: 5000 }],
  ])("keeps %s given in `server` and defaults the rest", (_label, server) => {
    const config = load(`version: 1\nserver: ${JSON.stringify(server)}\ntenants: []\n`);
    expect(config.server).toEqual({ ...SERVER_DEFAULTS, ...server });
  });

  it.each<[string, string]>([
    ["no tenants", "version: 1\ntenants: []\n"],
    ["a tenant with only an id", "version: 1\ntenants:\n  - id: acme\n"],
    ["an http connection with headers", tenant('connections:\n  - { name: c, transport: http, url: "http://x/mcp", headers: { x-team: a } }')],
    ["a stdio connection with restart settings", tenant("connections:\n  - { name: c, transport: stdio, command: x, restart: { maxRestarts: 1 } }")],
    ["an anyOf condition group", tenant("policies:\n  - { id: p, target: mcp.tool, pattern: '*', action: allow, conditions: [{ anyOf: [{ field: user, op: exists }] }] }")],
    ["an exists condition with false", tenant("policies:\n  - { id: p, target: mcp.tool, pattern: '*', action: allow, conditions: [{ field: metadata.team, op: exists, value: false }] }")],
    ["an eq condition on a number", tenant("policies:\n  - { id: p, target: mcp.tool, pattern: '*', action: allow, conditions: [{ field: metadata.level, op: eq, value: 3 }] }")],
    ["the same connection name in two tenants", "version: 1\ntenants:\n  - id: a\n    connections: [{ name: c, transport: stdio, command: x }]\n  - id: b\n    connections: [{ name: c, transport: stdio, command: x }]\n"],
    ["identifiers with dots, dashes and underscores", "version: 1\ntenants:\n  - id: acme.eu-west_1\n"],
  ])("accepts %s", (_label, text) => {
    expect(() => load(text)).not.toThrow();
  });

  it("loadConfigFile reads and parses a file, naming the file in errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "sentinel-config-"));
    try {
      const good = join(dir, "good.yaml");
      const bad = join(dir, "bad.yaml");
      writeFileSync(good, VALID);
      writeFileSync(bad, "version: 1\ntenants:\n  - id: acme\n    colour: red\n");
      expect(loadConfigFile(good, { env: {} }).tenants[0]!.id).toBe("acme");
      expect(() => loadConfigFile(bad, { env: {} })).toThrow(expect.objectContaining({ file: bad, path: "tenants[0].colour" }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("loadConfigFile reports a file it cannot read", () => {
    const missing = join(tmpdir(), "sentinel-no-such-dir", "sentinel.yaml");
    expect(() => loadConfigFile(missing)).toThrow(SentinelConfigError);
    expect(() => loadConfigFile(missing)).toThrow(expect.objectContaining({ file: missing, path: "", reason: expect.stringMatching(/^cannot read file/) }));
  });
});

describe("each config error names file, path and reason", () => {
  const schemaErrors: Array<[label: string, text: string, path: string, reason: RegExp]> = [
    ["an unknown top-level property", "version: 1\ntenants: []\nfoo: 1\n", "foo", /unknown property/],
    ["an unknown tenant property", tenant("colour: red"), "tenants[0].colour", /unknown property/],
    ["an unknown server property", "version: 1\nserver: { hots: x }\ntenants: []\n", "server.hots", /unknown property/],
    ["an unknown API key property", tenant(`apiKeys: [{ id: k, hash: "${HASH_A}", scope: all }]`), "tenants[0].apiKeys[0].scope", /unknown property/],
    ["an http-only property on a stdio connection", tenant("connections:\n  - { name: c, transport: stdio, command: x, url: 'http://x' }"), "tenants[0].connections[0].url", /unknown property/],
    ["a stdio-only property on an http connection", tenant("connections:\n  - { name: c, transport: http, url: 'http://x', command: y }"), "tenants[0].connections[0].command", /unknown property/],
    ["an unknown policy property", tenant("policies:\n  - { id: p, target: mcp.tool, pattern: '*', action: allow, priority: 1 }"), "tenants[0].policies[0].priority", /unknown property/],
    ["a missing tenants list", "version: 1\n", "", /missing required property "tenants"/],
    ["a missing version", "tenants: []\n", "", /missing required property "version"/],
    ["a missing tenant id", "version: 1\ntenants:\n  - name: Acme\n", "tenants[0]", /missing required property "id"/],
    ["a missing API key hash", tenant("apiKeys: [{ id: k }]"), "tenants[0].apiKeys[0]", /missing required property "hash"/],
    ["a missing policy action", tenant("policies:\n  - { id: p, target: mcp.tool, pattern: '*' }"), "tenants[0].policies[0]", /missing required property "action"/],
    ["a missing transport", tenant("connections:\n  - { name: c, url: 'http://x' }"), "tenants[0].connections[0]", /missing required property "transport"/],
    ["a wrong transport", tenant("connections:\n  - { name: c, transport: ws, url: 'ws://x' }"), "tenants[0].connections[0].transport", /"http".*"stdio"/],
    ["an http connection without url", tenant("connections:\n  - { name: c, transport: http }"), "tenants[0].connections[0]", /missing required property "url"/],
    ["an http url that is not http(s)", tenant("connections:\n  - { name: c, transport: http, url: 'ftp://x' }"), "tenants[0].connections[0].url", /must match pattern/],
    ["a stdio connection without command", tenant("connections:\n  - { name: c, transport: stdio }"), "tenants[0].connections[0]", /missing required property "command"/],
    ["a stdio connection with an empty command", tenant("connections:\n  - { name: c, transport: stdio, command: '' }"), "tenants[0].connections[0].command", /must NOT have fewer than 1 characters/],
    ["a timeout below the minimum", tenant("connections:\n  - { name: c, transport: stdio, command: x, timeoutMs: 5 }"), "tenants[0].connections[0].timeoutMs", /must be >= 100/],
    ["a tenant id starting with a dash", "version: 1\ntenants:\n  - id: -acme\n", "tenants[0].id", /must match pattern/],
    ["a tenant id with a space", "version: 1\ntenants:\n  - id: 'acme corp'\n", "tenants[0].id", /must match pattern/],
    ["a tenant id of 129 characters", `version: 1\ntenants:\n  - id: ${"a".repeat(129)}\n`, "tenants[0].id", /must match pattern/],
    ["a connection name with a slash", tenant("connections:\n  - { name: a/b, transport: stdio, command: x }"), "tenants[0].connections[0].name", /must match pattern/],
    ["a policy id with a non-ASCII letter", tenant("policies:\n  - { id: pöl, target: mcp.tool, pattern: '*', action: allow }"), "tenants[0].policies[0].id", /must match pattern/],
    ["an API key hash without the prefix", tenant(`apiKeys: [{ id: k, hash: "${"a".repeat(64)}" }]`), "tenants[0].apiKeys[0].hash", /must match pattern/],
    ["an API key hash in upper-case hex", tenant(`apiKeys: [{ id: k, hash: "sha256:${"A".repeat(64)}" }]`), "tenants[0].apiKeys[0].hash", /must match pattern/],
    ["an API key hash one digit short", tenant(`apiKeys: [{ id: k, hash: "sha256:${"a".repeat(63)}" }]`), "tenants[0].apiKeys[0].hash", /must match pattern/],
    ["a version other than 1", "version: 2\ntenants: []\n", "version", /must be 1/],
    ["a port out of range", "version: 1\nserver: { port: 70000 }\ntenants: []\n", "server.port", /must be <= 65535/],
    ["a body limit below 1 KiB", "version: 1\nserver: { maxBodyBytes: 10 }\ntenants: []\n", "server.maxBodyBytes", /must be >= 1024/],
    ["an unknown policy target", tenant("policies:\n  - { id: p, target: mcp.thing, pattern: '*', action: allow }"), "tenants[0].policies[0].target", /must be one of "mcp.tool"/],
    ["an unknown policy action", tenant("policies:\n  - { id: p, target: mcp.tool, pattern: '*', action: permit }"), "tenants[0].policies[0].action", /must be one of "allow", "deny", "alert", "redact", "confirm"/],
    ["an empty pattern", tenant("policies:\n  - { id: p, target: mcp.tool, pattern: '', action: allow }"), "tenants[0].policies[0].pattern", /must NOT have fewer than 1 characters/],
    ["an unknown condition field", tenant("policies:\n  - { id: p, target: mcp.tool, pattern: '*', action: allow, conditions: [{ field: department, op: eq, value: x }] }"), "tenants[0].policies[0].conditions[0].field", /must match pattern/],
    ["an unknown condition operator", tenant("policies:\n  - { id: p, target: mcp.tool, pattern: '*', action: allow, conditions: [{ field: role, op: like, value: x }] }"), "tenants[0].policies[0].conditions[0].op", /must be one of "eq"/],
    ["an empty anyOf group", tenant("policies:\n  - { id: p, target: mcp.tool, pattern: '*', action: allow, conditions: [{ anyOf: [] }] }"), "tenants[0].policies[0].conditions[0].anyOf", /must NOT have fewer than 1 items/],
    ["a document that is a list", "- 1\n- 2\n", "", /must be object/],
    ["an empty document", "", "", /must be object/],
    ["tenants given as a map", "version: 1\ntenants: { acme: {} }\n", "tenants", /must be array/],
  ];
  it.each(schemaErrors.map(([label, text, path, reason]) => ({ label, text, path, reason })))("$label is reported at $path", ({ text, path, reason }) => {
    const error = failure(text);
    expect(error.file).toBe(FILE);
    expect(error.path).toBe(path);
    expect(error.reason).toMatch(reason);
  });

  const duplicates: Array<[label: string, text: string, path: string, reason: string]> = [
    ["a duplicate tenant id", "version: 1\ntenants:\n  - id: acme\n  - id: globex\n  - id: acme\n", "tenants[2].id", 'duplicate tenant id "acme"'],
    [
      "a duplicate connection name",
      tenant("connections:\n  - { name: c, transport: stdio, command: x }\n  - { name: c, transport: http, url: 'http://x' }"),
      "tenants[0].connections[1]",
      'duplicate connection name "c"',
    ],
    [
      "a duplicate policy id",
      tenant("policies:\n  - { id: p, target: mcp.tool, pattern: a, action: allow }\n  - { id: q, target: mcp.tool, pattern: b, action: allow }\n  - { id: p, target: mcp.tool, pattern: c, action: deny }"),
      "tenants[0].policies[2]",
      'duplicate policy id "p"',
    ],
    ["a duplicate API key id", tenant(`apiKeys:\n  - { id: k, hash: "${HASH_A}" }\n  - { id: k, hash: "${HASH_B}" }`), "tenants[0].apiKeys[1]", 'duplicate API key id "k"'],
    [
      "an API key hash reused within a tenant",
      tenant(`apiKeys:\n  - { id: k1, hash: "${HASH_A}" }\n  - { id: k2, hash: "${HASH_A}" }`),
      "tenants[0].apiKeys[1].hash",
      "the same key hash is already used by tenants[0].apiKeys[0]",
    ],
    [
      "an API key hash reused across tenants",
      `version: 1\ntenants:\n  - id: a\n    apiKeys: [{ id: k, hash: "${HASH_A}" }]\n  - id: b\n    apiKeys: [{ id: k, hash: "${HASH_A}" }]\n`,
      "tenants[1].apiKeys[0].hash",
      "the same key hash is already used by tenants[0].apiKeys[0]",
    ],
    [
      "an API key hash reused by a revoked key",
      tenant(`apiKeys:\n  - { id: k1, hash: "${HASH_A}" }\n  - { id: k2, hash: "${HASH_A}", revoked: true }`),
      "tenants[0].apiKeys[1].hash",
      "the same key hash is already used by tenants[0].apiKeys[0]",
    ],
  ];
  it.each(duplicates.map(([label, text, path, reason]) => ({ label, text, path, reason })))("$label is reported at $path", ({ text, path, reason }) => {
    expect(failure(text)).toEqual({ file: FILE, path, reason });
  });

  const condition = (cond: string) => tenant(`policies:\n  - { id: ok, target: mcp.tool, pattern: a, action: allow }\n  - { id: p, target: mcp.tool, pattern: '*', action: allow, conditions: [${cond}] }`);
  it.each<[string, string, string, string]>([
    ["eq with a list", "{ field: role, op: eq, value: [admin] }", "conditions[0]", '"eq" needs a string, number or boolean value'],
    ["eq with no value", "{ field: role, op: eq }", "conditions[0]", '"eq" needs a string, number or boolean value'],
    ["neq with an object", "{ field: role, op: neq, value: { a: 1 } }", "conditions[0]", '"neq" needs a string, number or boolean value'],
    ["eq with null", "{ field: role, op: eq, value: null }", "conditions[0]", '"eq" needs a string, number or boolean value'],
    ["in with a scalar", "{ field: role, op: in, value: admin }", "conditions[0]", '"in" needs a non-empty list of strings, numbers or booleans'],
    ["in with an empty list", "{ field: role, op: in, value: [] }", "conditions[0]", '"in" needs a non-empty list of strings, numbers or booleans'],
    ["nin with a nested list", "{ field: role, op: nin, value: [[a]] }", "conditions[0]", '"nin" needs a non-empty list of strings, numbers or booleans'],
    ["exists with a string", "{ field: role, op: exists, value: 'yes' }", "conditions[0]", '"exists" takes true, false or no value'],
    [
      "exists with a string inside anyOf",
      "{ anyOf: [{ field: user, op: exists }, { field: role, op: exists, value: 'yes' }] }",
      "conditions[0].anyOf[1]",
      '"exists" takes true, false or no value',
    ],
    [
      "a bad value in a later condition",
      "{ field: user, op: exists }, { field: role, op: in, value: admin }",
      "conditions[1]",
      '"in" needs a non-empty list of strings, numbers or booleans',
    ],
  ])("a condition using %s is reported at its value", (_label, cond, at, reason) => {
    expect(failure(condition(cond))).toEqual({ file: FILE, path: `tenants[0].policies[1].${at}.value`, reason });
  });
});

describe("YAML syntax", () => {
  it.each<[string, string, RegExp]>([
    ["an unclosed flow sequence", "version: 1\ntenants: [\n  - id: a\n", /flow collection/i],
    ["a bad indentation", "version: 1\ntenants:\n  - id: a\n   name: x\n", /./],
    ["an unterminated quoted string", 'version: 1\ntenants:\n  - id: "acme\n', /./],
  ])("%s is reported with its line and column", (_label, text, reason) => {
    const error = failure(text);
    expect(error.file).toBe(FILE);
    expect(error.path).toMatch(/^line \d+, column \d+$/);
    expect(error.reason).toMatch(reason);
  });

  it.each<[string, string, string]>([
    ["a repeated top-level key", "version: 1\nversion: 1\ntenants: []\n", "line 2, column 1"],
    ["a repeated key inside a tenant", "version: 1\ntenants:\n  - id: a\n    id: b\n", "line 4, column 5"],
  ])("%s is refused, not silently overwritten, and reported at its line", (_label, text, path) => {
    const error = failure(text);
    expect(error.file).toBe(FILE);
    expect(error.reason).toMatch(/Map keys must be unique/);
    expect(error.path).toBe(path);
  });
});

describe("${NAME} interpolation", () => {
  const withHash = (value: string) => tenant(`apiKeys: [{ id: k, hash: "${value}" }]`);

  it("replaces a variable from options.env", () => {
    const config = load(withHash("${KEY_HASH}"), { KEY_HASH: HASH_A });
    expect(config.tenants[0]!.apiKeys![0]!.hash).toBe(HASH_A);
  });

  it.each<[string, string, string]>([
    ["in an API key hash", withHash("${UNSET_VAR}"), "tenants[0].apiKeys[0].hash"],
    ["in a stdio argument", tenant("connections:\n  - { name: c, transport: stdio, command: x, args: [a, '${UNSET_VAR}'] }"), "tenants[0].connections[0].args[1]"],
    ["in an env value", tenant("connections:\n  - { name: c, transport: stdio, command: x, env: { TOKEN: 'Bearer ${UNSET_VAR}' } }"), "tenants[0].connections[0].env.TOKEN"],
    ["in a server host", "version: 1\nserver: { host: '${UNSET_VAR}' }\ntenants: []\n", "server.host"],
  ])("an unset variable %s is an error at its path, never an empty string", (_label, text, path) => {
    expect(failure(text)).toEqual({ file: FILE, path, reason: "environment variable ${UNSET_VAR} is not set" });
  });

  it("reads only options.env when it is given, not the process environment", () => {
    const name = Object.keys(process.env).find((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && process.env[k] !== undefined);
    expect(name).toBeDefined();
    const error = failure(tenant(`name: "\${${name}}"`));
    expect(error.path).toBe("tenants[0].name");
    expect(error.reason).toBe(`environment variable \${${name}} is not set`);
  });

  it.each<[string, string, string]>([
    ["${SENTINEL_HOME}", "${SENTINEL_HOME}/dist/engine/demo/demo-server.js", `${SENTINEL_HOME}/dist/engine/demo/demo-server.js`],
    ["${NODE}", "${NODE}", process.execPath],
    ["two variables in one string", "${NODE} --home=${SENTINEL_HOME}", `${process.execPath} --home=${SENTINEL_HOME}`],
    ["a variable from options.env", "${TOOL_DIR}/bin", "/opt/tools/bin"],
  ])("%s is available even with a custom env", (_label, value, expected) => {
    const config = load(tenant(`connections:\n  - { name: c, transport: stdio, command: "${value}" }`), { TOOL_DIR: "/opt/tools" });
    const connection = config.tenants[0]!.connections![0]!;
    expect(connection.transport === "stdio" && connection.command).toBe(expected);
  });

  it("SENTINEL_HOME is the repository root", () => {
    expect(SENTINEL_HOME).toBe(fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, ""));
  });

  it.each<[string, string]>([
    ["a lone dollar", "cost: $5"],
    ["a dollar without braces", "$HOME"],
    ["an invalid variable name", "${1ABC}"],
  ])("%s is left as written", (_label, value) => {
    const config = load(tenant(`name: "${value}"`));
    expect(config.tenants[0]!.name).toBe(value);
  });
});

describe("the demo config", () => {
  it("loads when DEMO_API_KEY_HASH is provided", () => {
    const config = loadConfigFile(DEMO, { env: { DEMO_API_KEY_HASH: HASH_A } });
    const acme = config.tenants[0]!;
    expect(acme.id).toBe("acme");
    expect(acme.apiKeys![0]!.hash).toBe(HASH_A);
    const connection = acme.connections![0]!;
    expect(connection).toMatchObject({ name: "github-prod", transport: "stdio", command: process.execPath });
    expect(connection.transport === "stdio" && connection.args).toEqual([`${SENTINEL_HOME}/dist/engine/demo/demo-server.js`]);
    expect(() => compileConfig(config, DEMO)).not.toThrow();
  });

  it("refuses to load without DEMO_API_KEY_HASH", () => {
    expect(() => loadConfigFile(DEMO, { env: {} })).toThrow(
      expect.objectContaining({ file: DEMO, path: "tenants[0].apiKeys[0].hash", reason: "environment variable ${DEMO_API_KEY_HASH} is not set" }),
    );
  });
});

describe("compileConfig", () => {
  const base = (policies: PolicyConfig[]): SentinelConfig => ({
    version: 1,
    server: { ...SERVER_DEFAULTS },
    tenants: [
      { id: "acme", policies: [{ id: "ok", target: "mcp.tool", pattern: "*", action: "allow" }] },
      { id: "globex", policies },
    ],
  });
  const policy = (id: string, pattern: string, extra: Partial<PolicyConfig> = {}): PolicyConfig => ({ id, target: "mcp.tool", pattern, action: "allow", ...extra });

  it.each<[string, string, PolicyConfig[], number]>([
    ["an unclosed brace", "{a,b", [policy("a", "x"), policy("b", "{a,b")], 1],
    ["an unclosed bracket", "[ab", [policy("a", "[ab")], 0],
    ["a stray closing brace", "a}", [policy("a", "x"), policy("b", "y"), policy("c", "a}")], 2],
    ["a trailing backslash", "a\\", [policy("a", "a\\")], 0],
    ["a bad glob in a rule moved first by `order`", "{x", [policy("a", "x"), policy("b", "{x", { order: -1 })], 1],
  ])("%s is reported at tenants[1].policies[N].pattern", (_label, pattern, policies, index) => {
    let caught: unknown;
    try {
      compileConfig(base(policies), FILE);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SentinelConfigError);
    const error = caught as SentinelConfigError;
    expect({ file: error.file, path: error.path }).toEqual({ file: FILE, path: `tenants[1].policies[${index}].pattern` });
    expect(error.reason).toMatch(/^(unclosed|unbalanced|trailing|nested) /);
    expect(error.reason).toContain(pattern);
  });

  it("a bad glob is refused when the file is parsed, reported with the file name", () => {
    const text = tenant("policies:\n  - { id: ok, target: mcp.tool, pattern: a, action: allow }\n  - { id: bad, target: mcp.tool, pattern: '{a,b', action: allow }");
    expect(failure(text)).toEqual({ file: FILE, path: "tenants[0].policies[1].pattern", reason: 'unclosed "{" in "{a,b"' });
  });

  it("indexes live API keys by hash and leaves revoked keys out", () => {
    const runtime = compileConfig(load(VALID), FILE);
    expect([...runtime.keys.keys()]).toEqual([HASH_A]);
    expect(runtime.keys.get(HASH_A)).toMatchObject({ keyId: "ci", tenant: { id: "acme" } });
    expect(runtime.keys.has(HASH_B)).toBe(false);
  });

  it("indexes tenants by id, with connections by name and a compiled policy", () => {
    const runtime = compileConfig(load(VALID), FILE);
    const acme = runtime.tenants.get("acme")!;
    expect([...acme.connections.keys()]).toEqual(["github-prod", "search"]);
    expect(acme.policy.ruleCount).toBe(2);
    const ask = (role: string) =>
      acme.policy.evaluate({ tenant: "acme", user: "u", metadata: { role }, connection: "github-prod", target: "mcp.tool", name: "repo.read" });
    expect(ask("developer").ruleId).toBe("repo-read");
    expect(ask("guest").ruleId).toBe("catch-all");
    expect(runtime.server).toEqual(SERVER_DEFAULTS);
  });

  it("gives a tenant without policies an empty, deny-by-default policy", () => {
    const runtime = compileConfig(load("version: 1\ntenants:\n  - id: acme\n"), FILE);
    const decision = runtime.tenants
      .get("acme")!
      .policy.evaluate({ tenant: "acme", user: undefined, metadata: {}, connection: "c", target: "mcp.tool", name: "x" });
    expect(decision.ruleId).toBe("default-deny");
  });
});
