/**
 * Names that every JavaScript object answers to ("constructor", "__proto__", "toString"…) are
 * just unknown names on the wire. Sent as a JSON-RPC method to a connection with a vault
 * credential, Content Guard and policy, or as an LLM endpoint, each gets the answer any unknown
 * name gets, never an internal error from a stage that looked it up in a table.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCredentialUpstream, type CredentialUpstream } from "../fixtures/credential-upstream.js";
import { identityHeaders, MCP_POST_HEADERS, messagesOf, raw, rawSession, startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { startLlmGateway, type LlmSetup } from "../support/llm-harness.js";
import { seedSecret } from "../support/vault-seed.js";

const TOKEN = "ghp_" + "Pr0toKeysT3stT0k3nXq9LmN2bV7cZ4a4f";
const INHERITED = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];

describe("inherited property names as JSON-RPC methods", () => {
  let upstream: CredentialUpstream;
  let gw: TestGateway;
  let sid: string;

  beforeAll(async () => {
    upstream = await startCredentialUpstream({ check: (v) => (v === `Bearer ${TOKEN}` ? "ok" : undefined) });
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-proto-"));
    await seedSecret(dataDir, "acme", "github-prod", TOKEN);
    gw = await startTestGateway(
      {
        credentials: [{ name: "github-prod", type: "bearer", connections: ["github"], scopes: ["repos:read"] }],
        connections: [{ name: "github", transport: "http", url: upstream.url, credential: "github-prod", requiredScopes: [{ tool: "repo.*", scope: "repos:read" }] }],
        policies: [{ id: "reads", target: "mcp.tool", pattern: "repo.*", action: "allow" }],
        guard: { builtins: ["*"], responseInspection: true },
        tokenCaps: { input: 10_000 },
      },
      {},
      { dataDir },
    );
    sid = await rawSession(gw, "github", { user: "alice@acme.com", metadata: { role: "developer" } });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it.each(INHERITED)("%s is passed to the upstream like any unknown method, not failed inside the gateway", async (method) => {
    const reply = await raw(gw.endpoint("github"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid },
      body: JSON.stringify({ jsonrpc: "2.0", id: 5, method, params: { name: "repo.read", uri: "repo://x" } }),
    });
    expect(reply.status).toBe(200);
    const [answer] = messagesOf(reply) as Array<{ id: number; error?: { code: number; data?: { code?: string } } }>;
    expect(answer!.id).toBe(5);
    expect(answer!.error?.code).toBe(-32601); // the upstream's "method not found"
    expect(answer!.error?.data?.code).not.toBe("SENTINEL_INTERNAL");
  });
});

describe("inherited property names as LLM endpoints", () => {
  let s: LlmSetup;
  beforeAll(async () => {
    s = await startLlmGateway({ policies: [{ id: "all", target: "llm.endpoint", pattern: "*", action: "allow" }] });
  });
  afterAll(() => s?.close());

  it.each(INHERITED)("/llm/openai/v1/%s is an unknown endpoint (404), and the provider is never called", async (name) => {
    const before = s.provider.requests.length;
    const reply = await s.post(name, { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });
    expect(reply.status).toBe(404);
    expect((reply.json as { error: { code: string } }).error.code).toBe("SENTINEL_UNKNOWN_ENDPOINT");
    expect(s.provider.requests.length).toBe(before);
  });
});
