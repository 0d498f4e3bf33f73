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
