/**
 * The vault through the real gateway: credentials injected on the wire and nowhere else,
 * scopes refused before the upstream, echoed secrets scrubbed on the JSON and SSE paths,
 * OAuth client credentials with refresh before expiry, and stdio env injection.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionConfig, CredentialConfig } from "../../engine/config/types.js";
import { startCredentialUpstream, type CredentialUpstream } from "../fixtures/credential-upstream.js";
import { startOAuthServer, type OAuthTokenServer } from "../fixtures/oauth-token-server.js";
import { allowAll, identityHeaders, MCP_POST_HEADERS, messagesOf, raw, rawSession, startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { credentialStdio, seedSecret } from "../support/vault-seed.js";

const GITHUB = "ghp_" + "k7Qz2vX9mB4nR8tL1wP6sY3cF5hJ0dG8a4f";
const PG_TOKEN = "pg-api-" + "Hh72Ks91Ld03";

async function call(gw: TestGateway, connection: string, sid: string, name: string, args: Record<string, unknown> = {}, id = 7) {
  const reply = await raw(gw.endpoint(connection), {
    method: "POST",
    headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid },
    body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } }),
  });
  return { reply, messages: messagesOf(reply) };
}

describe("credentials injected by the gateway (HTTP upstream)", () => {
  let upstream: CredentialUpstream;
  let gw: TestGateway;
  let dataDir: string;

  beforeAll(async () => {
    upstream = await startCredentialUpstream({ check: (v) => (v === `Bearer ${GITHUB}` ? "github-v1" : v === `Bearer ${PG_TOKEN}` ? "pg-v1" : undefined) });
    dataDir = mkdtempSync(join(tmpdir(), "sentinel-vault-"));
    await seedSecret(dataDir, "acme", "github-prod", GITHUB);
    await seedSecret(dataDir, "acme", "postgres-prod", PG_TOKEN);
    const credentials: CredentialConfig[] = [
      { name: "github-prod", type: "bearer", connections: ["github"], scopes: ["repos:read", "charge:create(amount <= 50)"] },
      { name: "postgres-prod", type: "bearer", connections: ["db"], scopes: ["db:read"] },
      { name: "never-stored", type: "bearer", connections: ["empty"] },
    ];
    const connections: ConnectionConfig[] = [
      {
        name: "github",
        transport: "http",
        url: upstream.url,
        credential: "github-prod",
        requiredScopes: [
          { tool: "repo.*", scope: "repos:read" },
          { tool: "charge.*", scope: "charge:create" },
          { tool: "ddl.*", scope: "ddl:*" },
        ],
      },
      { name: "db", transport: "http", url: upstream.url, credential: "postgres-prod", requiredScopes: [{ tool: "ddl.*", scope: "ddl:*" }] },
      { name: "empty", transport: "http", url: upstream.url, credential: "never-stored" },
    ];
    gw = await startTestGateway({ credentials, connections, policies: allowAll }, {}, { dataDir });
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it("a call reaches the upstream with the credential the vault injected", async () => {
    const sid = await rawSession(gw, "github");
    const { messages } = await call(gw, "github", sid, "whoami");
    expect(messages[0]).toMatchObject({ result: { content: [{ text: "github-v1" }] } });
    expect(upstream.refused).toBe(0);
  });

  it("a secret echoed in a JSON answer reaches the agent masked", async () => {
    const sid = await rawSession(gw, "github");
    const { reply, messages } = await call(gw, "github", sid, "echo-auth");
    expect(reply.text).not.toContain(GITHUB);
    expect((messages[0] as { result: { content: Array<{ text: string }> } }).result.content[0]!.text).toBe("you sent authorization: Bearer ghp_•••8a4f");
  });

  it("a secret echoed on an SSE stream, in a notification and in the result, reaches the agent masked", async () => {
    const sid = await rawSession(gw, "github");
    const { reply, messages } = await call(gw, "github", sid, "echo-auth-sse");
    expect(reply.headers.get("content-type")).toContain("text/event-stream");
    expect(messages).toHaveLength(2);
    expect(reply.text).not.toContain(GITHUB);
    expect(reply.text).toContain("ghp_•••8a4f");
  });

  it("a secret in an upstream JSON-RPC error message reaches the agent masked", async () => {
    const sid = await rawSession(gw, "github");
    const { reply, messages } = await call(gw, "github", sid, "fail-echo");
    expect(reply.text).not.toContain(GITHUB);
    expect(messages[0]).toMatchObject({ error: { message: "credential Bearer ghp_•••8a4f rejected by backend" } });
  });

  it("a tool needing a scope the credential lacks is refused with the reason, and never reaches the upstream", async () => {
    const sid = await rawSession(gw, "db");
    const before = upstream.calls.length;
    const { messages } = await call(gw, "db", sid, "ddl.create_table", { table: "t" });
    expect(messages[0]).toMatchObject({ error: { code: -32005, data: { code: "SENTINEL_SCOPE_DENIED", reason: "credential postgres-prod lacks scope ddl:*" } } });
    expect(upstream.calls.length).toBe(before);
  });

  it("a constrained scope allows arguments inside the limit and refuses the rest", async () => {
    const sid = await rawSession(gw, "github");
    const ok = await call(gw, "github", sid, "charge.create", { amount: 40 }, 1);
    expect(ok.messages[0]).toHaveProperty("result");
    const over = await call(gw, "github", sid, "charge.create", { amount: 75 }, 2);
    expect(over.messages[0]).toMatchObject({ error: { data: { code: "SENTINEL_SCOPE_DENIED" } } });
    expect((over.messages[0] as { error: { data: { reason: string } } }).error.data.reason).toContain("amount <= 50");
    const missing = await call(gw, "github", sid, "charge.create", {}, 3);
    expect(missing.messages[0]).toMatchObject({ error: { data: { code: "SENTINEL_SCOPE_DENIED" } } });
  });

  it("tools/list hides tools whose required scope the credential does not grant", async () => {
    const sid = await rawSession(gw, "db");
    const reply = await raw(gw.endpoint("db"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    const names = (messagesOf(reply)[0] as { result: { tools: Array<{ name: string }> } }).result.tools.map((t) => t.name);
    expect(names).toContain("whoami");
    expect(names).not.toContain("ddl.create_table");
  });

  it("a credential with no secret in the vault refuses calls with SENTINEL_CREDENTIAL_UNAVAILABLE", async () => {
    const reply = await raw(gw.endpoint("empty"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key) },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
    });
    expect(messagesOf(reply)[0]).toMatchObject({ error: { data: { code: "SENTINEL_CREDENTIAL_UNAVAILABLE" } } });
    expect((messagesOf(reply)[0] as { error: { data: { reason: string } } }).error.data.reason).toContain("sentinel vault put --tenant acme --credential never-stored");
  });
});

describe("OAuth client credentials", () => {
  let oauth: OAuthTokenServer;
  let upstream: CredentialUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    oauth = await startOAuthServer({ clientId: "sentinel-gw", clientSecrets: () => ["cs_live_9f8e7d6c5b4a39281706"], lifetimeS: 2, requiredScope: "mcp.read" });
    upstream = await startCredentialUpstream({ check: (v) => oauth.validate(v) });
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-vault-"));
    await seedSecret(dataDir, "acme", "search-oauth", "cs_live_9f8e7d6c5b4a39281706");
    gw = await startTestGateway(
      {
        credentials: [{ name: "search-oauth", type: "oauth-client-credentials", connections: ["search"], oauth: { tokenUrl: oauth.tokenUrl, clientId: "sentinel-gw", scope: "mcp.read", refreshBeforeSeconds: 1 } }],
        connections: [{ name: "search", transport: "http", url: upstream.url, credential: "search-oauth" }],
        policies: allowAll,
      },
      {},
      { dataDir },
    );
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    await oauth?.close();
  });

  it("gets a token with the client credentials grant and refreshes it before it expires, with no failed call", async () => {
    const sid = await rawSession(gw, "search");
    const started = Date.now();
    let failures = 0;
    let calls = 0;
    // Tokens live 2 s; 5 s of calls needs at least two refreshes.
    while (Date.now() - started < 5_000) {
      const { messages } = await call(gw, "search", sid, "whoami", {}, ++calls);
      if (!("result" in messages[0]!)) failures++;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(failures).toBe(0);
    expect(upstream.refused).toBe(0);
    expect(oauth.issued).toBeGreaterThanOrEqual(3);
    expect(oauth.refused).toBe(0);
  });
});

describe("credentials injected into a stdio upstream's environment", () => {
  let gw: TestGateway;
  const token = "stdio-tok-" + "Zx81Lk22Qp03Mn44";

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-vault-"));
    const accepted = join(dataDir, "accepted.json");
    writeFileSync(accepted, JSON.stringify({ [token]: "stdio-v1" }));
    await seedSecret(dataDir, "acme", "tool-token", token);
    gw = await startTestGateway(
      {
        credentials: [{ name: "tool-token", type: "bearer", envVar: "API_TOKEN", connections: ["tools"] }],
        connections: [credentialStdio(accepted)],
        policies: allowAll,
      },
      {},
      { dataDir },
    );
  });

  afterAll(async () => {
    await gw?.close();
  });

  it("the child gets the secret in its environment, and an echo of it reaches the agent masked", async () => {
    const sid = await rawSession(gw, "tools");
    const who = await call(gw, "tools", sid, "whoami");
    expect(JSON.parse((who.messages[0] as { result: { content: Array<{ text: string }> } }).result.content[0]!.text)).toMatchObject({ label: "stdio-v1" });
    const echo = await call(gw, "tools", sid, "echo-env", {}, 8);
    expect(echo.reply.text).not.toContain(token);
    expect(echo.reply.text).toContain("•••Mn44");
  });
});

describe("required scopes on resources and prompts", () => {
  let upstream: CredentialUpstream;
  let gw: TestGateway;
  const TOKEN = "ghp_" + "Rs9Pq2Lm7Xc4Vb8Nz1Kd6Hf3Jt0Wy5Ga";

  beforeAll(async () => {
    upstream = await startCredentialUpstream({ check: (v) => (v === `Bearer ${TOKEN}` ? "scoped" : undefined) });
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-vault-"));
    await seedSecret(dataDir, "acme", "data", TOKEN);
    gw = await startTestGateway(
      {
        credentials: [{ name: "data", type: "bearer", connections: ["data"], scopes: ["db:staging:read", "prompts:basic", 'files:read(uri == "file:///readme.md")'] }],
        connections: [
          {
            name: "data",
            transport: "http",
            url: upstream.url,
            credential: "data",
            requiredScopes: [
              { resource: "db://prod/*", scope: "db:prod:read" },
              { resource: "db://staging/*", scope: "db:staging:read" },
              { resource: "file:///*", scope: "files:read" },
              { prompt: "admin-*", scope: "prompts:admin" },
              { prompt: "*", scope: "prompts:basic" },
            ],
          },
        ],
        policies: allowAll,
      },
      {},
      { dataDir },
    );
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  async function send(sid: string, method: string, params: Record<string, unknown>, id = 1) {
    const reply = await raw(gw.endpoint("data"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid },
      body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
    });
    return messagesOf(reply)[0] as { result?: Record<string, unknown>; error?: { code: number; data: { code: string; reason: string } } };
  }

  it.each([
    ["db://prod/users", "db:prod:read"],
    // Look-alike spellings are canonicalised before matching, as policy does.
    ["DB://PROD/users", "db:prod:read"],
    ["db://ｐｒｏｄ/users", "db:prod:read"],
    ["db://pro\u200Bd/users", "db:prod:read"],
  ])("resources/read of %s is refused for lack of %s and never reaches the upstream", async (uri, scope) => {
    const sid = await rawSession(gw, "data");
    const before = upstream.calls.length;
    const answer = await send(sid, "resources/read", { uri });
    expect(answer.error).toMatchObject({ code: -32005, data: { code: "SENTINEL_SCOPE_DENIED", reason: `credential data lacks scope ${scope}` } });
    expect(upstream.calls.length).toBe(before);
  });

  it("resources/read of a resource whose scope the credential grants reaches the upstream with the credential", async () => {
    const sid = await rawSession(gw, "data");
    const answer = await send(sid, "resources/read", { uri: "db://staging/users" });
    expect(answer.result).toMatchObject({ contents: [{ uri: "db://staging/users", text: "contents of db://staging/users" }] });
    expect(upstream.calls.at(-1)).toMatchObject({ method: "resources/read", tool: "db://staging/users", label: "scoped" });
  });

  it("a constrained resource grant allows the URI it names and refuses any other", async () => {
    const sid = await rawSession(gw, "data");
    expect((await send(sid, "resources/read", { uri: "file:///readme.md" })).result).toBeDefined();
    const refused = await send(sid, "resources/read", { uri: "file:///etc/passwd" }, 2);
    expect(refused.error?.data.code).toBe("SENTINEL_SCOPE_DENIED");
    expect(refused.error?.data.reason).toContain('only where uri == "file:///readme.md"');
    // The refusal names the constraint, not the URI the caller asked for.
    expect(refused.error?.data.reason).not.toContain("passwd");
  });

  it("resources/subscribe is guarded like resources/read", async () => {
    const sid = await rawSession(gw, "data");
    expect((await send(sid, "resources/subscribe", { uri: "db://prod/users" })).error?.data.code).toBe("SENTINEL_SCOPE_DENIED");
  });

  it("prompts/get of a prompt needing a scope the credential lacks is refused; one it grants is served", async () => {
    const sid = await rawSession(gw, "data");
    const before = upstream.calls.length;
    const refused = await send(sid, "prompts/get", { name: "admin-reset", arguments: {} });
    expect(refused.error).toMatchObject({ data: { code: "SENTINEL_SCOPE_DENIED", reason: "credential data lacks scope prompts:admin" } });
    expect(upstream.calls.length).toBe(before);
    const served = await send(sid, "prompts/get", { name: "summarize", arguments: {} }, 2);
    expect(served.result).toMatchObject({ messages: [{ content: { text: "prompt summarize" } }] });
  });

  it("completion of a prompt's arguments needs the prompt's scope too", async () => {
    const sid = await rawSession(gw, "data");
    const refused = await send(sid, "completion/complete", { ref: { type: "ref/prompt", name: "admin-reset" }, argument: { name: "a", value: "" } });
    expect(refused.error?.data.code).toBe("SENTINEL_SCOPE_DENIED");
    const served = await send(sid, "completion/complete", { ref: { type: "ref/prompt", name: "summarize" }, argument: { name: "a", value: "" } }, 2);
    expect(served.result).toMatchObject({ completion: { values: ["a"] } });
  });

  it("resources/list, resources/templates/list and prompts/list hide what the credential cannot use", async () => {
    const sid = await rawSession(gw, "data");
    const resources = ((await send(sid, "resources/list", {})).result!.resources as Array<{ uri: string }>).map((r) => r.uri);
    // file:///etc/passwd stays listed: a constrained grant of files:read covers the scope, and
    // the URI constraint is checked when it is read.
    expect(resources).toEqual(["db://staging/users", "file:///readme.md", "file:///etc/passwd"]);
    const templates = ((await send(sid, "resources/templates/list", {}, 2)).result!.resourceTemplates as Array<{ uriTemplate: string }>).map((t) => t.uriTemplate);
    expect(templates).toEqual(["db://staging/{table}"]);
    const prompts = ((await send(sid, "prompts/list", {}, 3)).result!.prompts as Array<{ name: string }>).map((p) => p.name);
    expect(prompts).toEqual(["summarize"]);
  });
});
