/**
 * OAuth client credentials for a stdio upstream, through the real gateway: the vault fetches
 * the access token and gives it to the child in ACCESS_TOKEN; the child is a resource server
 * that introspects the token at the token endpoint on every call (so a call made with an
 * expired or unknown token fails). A refresh is a new version for the child: new calls are
 * held while the calls on the old token drain, then the children restart with the new token.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync } from "node:fs";
import { resolve } from "node:path";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CredentialConfig, StdioConnectionConfig } from "../../engine/config/types.js";
import { VAULT_EVENTS_CHANNEL, type VaultEvent } from "../../engine/vault/vault-events.js";
import { startOAuthServer, type OAuthTokenServer } from "../fixtures/oauth-token-server.js";
import { allowAll, identityHeaders, MCP_POST_HEADERS, messagesOf, raw, rawSession, REPO_ROOT, startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { seedSecret } from "../support/vault-seed.js";

const CLIENT_SECRET = "cs_stdio_" + "Tq8Wm3Zr5Lx1Np7Hd2Kv";
const INTROSPECT_SECRET = "rs-introspect-" + "Jb4Fy9";

interface Answer {
  ok: boolean;
  label?: string;
  token?: string;
  pid?: number;
  text: string;
}

async function call(gw: TestGateway, sid: string, name: string, args: Record<string, unknown>, id: number): Promise<Answer> {
  const reply = await raw(gw.endpoint("tools"), {
    method: "POST",
    headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid },
    body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } }),
  });
  const m = reply.status === 200 ? messagesOf(reply).at(-1) : undefined;
  const text = (m?.result as { content?: Array<{ text: string }> } | undefined)?.content?.[0]?.text;
  if (text === undefined) return { ok: false, text: `${reply.status} ${reply.text.slice(0, 300)}` };
  const body = text.startsWith("{") ? (JSON.parse(text) as { label?: string; token?: string; pid?: number }) : {};
  return { ok: true, ...body, text };
}

function events(): { list: VaultEvent[]; stop(): void } {
  const list: VaultEvent[] = [];
  const listener = (e: unknown) => list.push(e as VaultEvent);
  subscribe(VAULT_EVENTS_CHANNEL, listener);
  return { list, stop: () => unsubscribe(VAULT_EVENTS_CHANNEL, listener) };
}

async function start(oauth: OAuthTokenServer, oauthConfig: Partial<NonNullable<CredentialConfig["oauth"]>>, drainTimeoutMs = 3_000): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), "sentinel-oauth-stdio-"));
  await seedSecret(dataDir, "acme", "tool-oauth", CLIENT_SECRET);
  const credential: CredentialConfig = {
    name: "tool-oauth",
    type: "oauth-client-credentials",
    envVar: "ACCESS_TOKEN",
    connections: ["tools"],
    oauth: { tokenUrl: oauth.tokenUrl, clientId: "sentinel-gw", ...oauthConfig },
  };
  const connection: StdioConnectionConfig = {
    name: "tools",
    transport: "stdio",
    command: process.execPath,
    args: ["--import", "tsx", resolve(REPO_ROOT, "test/fixtures/credential-stdio-server.ts"), "--env", "ACCESS_TOKEN"],
    cwd: REPO_ROOT,
    env: { INTROSPECT_URL: oauth.introspectUrl, INTROSPECT_SECRET },
    credential: "tool-oauth",
  };
  return startTestGateway({ credentials: [credential], connections: [connection], policies: allowAll }, {}, { dataDir, config: { drainTimeoutMs } });
}

describe("OAuth client credentials for a stdio upstream", () => {
  let oauth: OAuthTokenServer | undefined;
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    await oauth?.close();
    gw = undefined;
  });

  it("the child gets an access token in ACCESS_TOKEN, never the client secret, and an echo of it reaches the agent masked", async () => {
    oauth = await startOAuthServer({ clientId: "sentinel-gw", clientSecrets: () => [CLIENT_SECRET], lifetimeS: 60, introspectSecret: INTROSPECT_SECRET });
    gw = await start(oauth, {});
    const sid = await rawSession(gw, "tools");
    const who = await call(gw, sid, "whoami", {}, 1);
    // "oauth" means the token endpoint reported the child's token active.
    expect(who).toMatchObject({ ok: true, label: "oauth" });
    const echo = await call(gw, sid, "echo-env", {}, 2);
    expect(echo.text).toMatch(/^my ACCESS_TOKEN is \S{4}•••\S{4}$/);
    expect(echo.text).not.toContain(CLIENT_SECRET.slice(-4));
    expect(oauth.byMethod).toEqual({ basic: 1, post: 0 });
    expect(oauth.introspected.inactive).toBe(0);
  });

  it("refreshes under load: each refresh drains the calls on the old token and restarts the children; zero failed calls", async () => {
    // Tokens live 4 s and are refreshed 2 s before they expire: a refresh every 2 s.
    oauth = await startOAuthServer({ clientId: "sentinel-gw", clientSecrets: () => [CLIENT_SECRET], lifetimeS: 4, introspectSecret: INTROSPECT_SECRET });
    gw = await start(oauth, { refreshBeforeSeconds: 2 });
    const seen = events();
    const answers: Answer[] = [];
    const timings: number[] = [];
    const started = Date.now();
    try {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          const sid = await rawSession(gw!, "tools");
          for (let id = 1; Date.now() - started < 9_000; id++) {
            const at = performance.now();
            answers.push(await call(gw!, sid, "sleep", { ms: 25 }, id));
            timings.push(performance.now() - at);
          }
        }),
      );
    } finally {
      seen.stop();
    }
    const refreshes = seen.list.filter((e): e is Extract<VaultEvent, { type: "token-refreshed" }> => e.type === "token-refreshed");
    const failed = answers.filter((a) => !a.ok || a.label !== "oauth").map((a) => a.text);
    expect(failed).toEqual([]);
    expect(refreshes.length).toBeGreaterThanOrEqual(2);
    expect(refreshes.every((r) => r.version === 1 && !r.forced)).toBe(true);
    // Every refresh reached the children: they ran with at least one token per refresh, plus the first.
    const tokens = new Set(answers.map((a) => a.token));
    expect(tokens.size).toBeGreaterThanOrEqual(refreshes.length + 1);
    // Children were restarted (new pids), and no call ever reached a child with a dead token.
    expect(new Set(answers.map((a) => a.pid)).size).toBeGreaterThan(4);
    expect(oauth.introspected.inactive).toBe(0);
    expect(oauth.refused).toBe(0);
    console.log(
      `stdio OAuth refresh under load: ${answers.length} calls, 0 failed; ${refreshes.length} refreshes (${oauth.issued} tokens issued, ${tokens.size} seen by children); ` +
        `drain ${refreshes.map((r) => r.drainMs.toFixed(1)).join("/")} ms, held ${refreshes.map((r) => r.held).join("/")} calls; slowest call ${Math.max(...timings).toFixed(0)} ms (child restart included)`,
    );
  });

  it("a session idle past its token's lifetime gets a fresh token before its next call reaches the child (client_secret_post)", async () => {
    oauth = await startOAuthServer({ clientId: "sentinel-gw", clientSecrets: () => [CLIENT_SECRET], lifetimeS: 2, introspectSecret: INTROSPECT_SECRET });
    gw = await start(oauth, { clientAuth: "post", refreshBeforeSeconds: 1 });
    const sid = await rawSession(gw, "tools");
    const first = await call(gw, sid, "whoami", {}, 1);
    expect(first).toMatchObject({ ok: true, label: "oauth" });
    // Long enough for the token in use, and any refreshed one nobody used, to expire.
    await new Promise((r) => setTimeout(r, 5_000));
    const later = await call(gw, sid, "whoami", {}, 2);
    expect(later).toMatchObject({ ok: true, label: "oauth" });
    expect(later.token).not.toBe(first.token);
    expect(later.pid).not.toBe(first.pid);
    expect(oauth.byMethod.basic).toBe(0);
    expect(oauth.byMethod.post).toBeGreaterThanOrEqual(2);
    expect(oauth.introspected.inactive).toBe(0);
  });

  it("a client secret the token endpoint refuses leaves the child unstarted and the call refused as unavailable", async () => {
    oauth = await startOAuthServer({ clientId: "sentinel-gw", clientSecrets: () => ["some-other-secret-000"], lifetimeS: 60, introspectSecret: INTROSPECT_SECRET });
    gw = await start(oauth, {});
    const reply = await raw(gw.endpoint("tools"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key) },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
    });
    expect(messagesOf(reply)[0]).toMatchObject({ error: { data: { code: "SENTINEL_CREDENTIAL_UNAVAILABLE" } } });
    expect(reply.text).not.toContain(CLIENT_SECRET);
    expect(oauth.introspected).toEqual({ active: 0, inactive: 0 });
  });
});
