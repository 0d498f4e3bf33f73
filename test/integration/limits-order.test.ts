/**
 * Limits are the last stage that can refuse a call, after the vault's scope check: a call
 * refused anywhere spends no quota. A call once admitted is charged whatever the upstream does
 * with it. Through the real gateway, a real vault and an upstream that insists on the
 * credential; usage is read back from the gateway's own counters, as the admin API reads it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionConfig, CredentialConfig } from "../../engine/config/types.js";
import type { Usage } from "../../engine/limits/usage.js";
import { startCredentialUpstream, type CredentialUpstream } from "../fixtures/credential-upstream.js";
import { allowAll, identityHeaders, MCP_POST_HEADERS, messagesOf, raw, rawSession, startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { seedSecret } from "../support/vault-seed.js";

const TOKEN = "ghp_" + "k7Qz2vX9mB4nR8tL1wP6sY3cF5hJ0dG8a4f";

type Reply = { result?: unknown; error?: { code: number; data: { code: string; ruleId?: string } } };

describe("limits are charged after the vault's scope check", () => {
  let upstream: CredentialUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startCredentialUpstream({ check: (v) => (v === `Bearer ${TOKEN}` ? "v1" : undefined) });
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-limits-"));
    await seedSecret(dataDir, "acme", "github-prod", TOKEN);
    const credentials: CredentialConfig[] = [{ name: "github-prod", type: "bearer", connections: ["github"], scopes: ["repos:read"] }];
    const connections: ConnectionConfig[] = [
      {
        name: "github",
        transport: "http",
        url: upstream.url,
        credential: "github-prod",
        timeoutMs: 500,
        requiredScopes: [{ tool: "repo.*", scope: "repos:read" }, { tool: "ddl.*", scope: "ddl:*" }],
      },
    ];
    gw = await startTestGateway(
      {
        credentials,
        connections,
        policies: allowAll,
        guard: { builtins: [{ id: "aws-access-key-id", action: "deny" }] },
        limits: [
          { id: "user-calls", scope: "user", metric: "requests", window: "minute", max: 3 },
          { id: "user-tokens", scope: "user", metric: "tokens", window: "hour", max: 100_000 },
          { id: "user-dollars", scope: "user", metric: "dollars", window: "hour", max: 100 },
        ],
        prices: { tools: [{ pattern: "*", perCall: 2 }] },
      },
      {},
      { dataDir },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  async function caller(user: string) {
    const sid = await rawSession(gw, "github", { user });
    let id = 0;
    return async (name: string, args: Record<string, unknown> = {}): Promise<Reply> => {
      const headers = { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid };
      const body = JSON.stringify({ jsonrpc: "2.0", id: ++id, method: "tools/call", params: { name, arguments: args } });
      return messagesOf(await raw(gw.endpoint("github"), { method: "POST", headers, body }))[0] as Reply;
    };
  }

  /** A user's usage of one limit, read from the gateway's counters. */
  function used(user: string, limitId: string): number {
    const limits = gw.gateway.runtime.tenants.get("acme")!.safeguards!.limits!;
    return (limits.usage(gw.gateway.counters, { tenant: "acme", user, session: "", connection: "github" }, limits.get(limitId)!) as Usage).used;
  }
  const usage = (user: string) => ({ requests: used(user, "user-calls"), tokens: used(user, "user-tokens"), dollars: used(user, "user-dollars") });

  it("calls refused for a missing scope spend no requests, tokens or dollars", async () => {
    const call = await caller("alice");
    const before = upstream.calls.length;
    for (let i = 0; i < 5; i++) {
      expect((await call("ddl.create_table", { table: `t${i}` })).error?.data).toMatchObject({ code: "SENTINEL_SCOPE_DENIED" });
    }
    expect(upstream.calls.length).toBe(before);
    expect(usage("alice")).toEqual({ requests: 0, tokens: 0, dollars: 0 });

    // All three requests of the limit are still there to use.
    for (let i = 0; i < 3; i++) expect((await call("repo.read", { repo: "acme/api" })).error).toBeUndefined();
    expect(usage("alice")).toMatchObject({ requests: 3, dollars: 6 });
    expect(usage("alice").tokens).toBeGreaterThan(0);
    expect((await call("repo.read", { repo: "acme/api" })).error?.data).toMatchObject({ code: "SENTINEL_LIMIT_EXCEEDED", ruleId: "user-calls" });
  });

  it("a call refused by a deny pattern spends nothing either", async () => {
    const call = await caller("carol");
    expect((await call("repo.read", { key: "AKIAIOSFODNN7EXAMPLE" })).error?.data).toMatchObject({ code: "SENTINEL_CONTENT_BLOCKED" });
    expect(usage("carol")).toEqual({ requests: 0, tokens: 0, dollars: 0 });
  });

  it("a call over a limit gives back the credential lease the vault stage took for it", async () => {
    const call = await caller("dave");
    for (let i = 0; i < 3; i++) expect((await call("whoami")).error).toBeUndefined();
    expect((await call("whoami")).error?.data).toMatchObject({ code: "SENTINEL_LIMIT_EXCEEDED" });
    const version = await gw.gateway.vault!.binding("acme", "github")!.credential.current();
    // A lease kept would hold a rotation's drain open for ever.
    expect(version.inFlight).toBe(0);
  });

  it("an admitted call is charged even when the upstream fails it or times out", async () => {
    const call = await caller("bob");
    const failed = await call("fail-echo");
    expect(failed.error).toBeDefined();
    expect(failed.error!.data?.code).toBeUndefined(); // the upstream's own error, passed through
    expect(usage("bob")).toMatchObject({ requests: 1, dollars: 2 });
    expect((await call("sleep", { ms: 2000 })).error?.data).toMatchObject({ code: "SENTINEL_UPSTREAM_TIMEOUT" });
    expect(usage("bob")).toMatchObject({ requests: 2, dollars: 4 });
  });
});
