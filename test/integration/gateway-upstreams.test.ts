import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../engine/auth/api-keys.js";
import { startGateway } from "../../engine/server.js";
import {
  allowAll,
  connectClient,
  identityHeaders,
  MCP_POST_HEADERS,
  messagesOf,
  raw,
  rawSession,
  recorded,
  recordingStdio,
  startRecordingHttp,
  startTestGateway,
  toolCalls,
  type ChildServer,
  type TestGateway,
} from "../support/gateway-harness.js";

const scratch = mkdtempSync(join(tmpdir(), "sentinel-upstreams-"));
const textOf = (result: unknown) => JSON.parse((result as { content: Array<{ text: string }> }).content[0]!.text) as Record<string, unknown>;

describe("dead and slow upstreams", () => {
  let gw: TestGateway;
  let http: ChildServer;
  const record = join(scratch, "slow.jsonl");

  beforeAll(async () => {
    http = await startRecordingHttp(record);
    gw = await startTestGateway({
      connections: [
        { name: "slow", transport: "http", url: http.url, timeoutMs: 300 },
        { name: "dead", transport: "http", url: "http://127.0.0.1:9/mcp" },
        { name: "missing-binary", transport: "stdio", command: "/nonexistent/mcp-server" },
      ],
      policies: allowAll,
    });
  });
  afterAll(async () => {
    await gw.close();
    http.stop();
  });

  it("a slow upstream gets a timeout error, and the gateway cancels the call upstream", async () => {
    const client = await connectClient(gw, "slow");
    const error = await client.callTool({ name: "sleep", arguments: { ms: 1500 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: -32011, data: { code: "SENTINEL_UPSTREAM_TIMEOUT" } });
    await new Promise((r) => setTimeout(r, 100));
    const sleepCall = recorded(record).find((m) => (m.params as { name?: string } | undefined)?.name === "sleep")!;
    const cancel = recorded(record).find((m) => m.method === "notifications/cancelled");
    expect(cancel).toMatchObject({ params: { requestId: sleepCall.id } });
    // The session survives its timed-out call.
    expect(await client.callTool({ name: "echo", arguments: { after: "timeout" } })).toMatchObject({ content: [{ type: "text" }] });
    await client.close();
  });

  it("a dead upstream gets a clear JSON-RPC error and other connections keep working", async () => {
    const reply = await raw(gw.endpoint("dead"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key) },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
    });
    expect(reply.status).toBe(200);
    expect(messagesOf(reply)[0]).toMatchObject({ id: 1, error: { code: -32010, data: { code: "SENTINEL_UPSTREAM_UNAVAILABLE" } } });
    const client = await connectClient(gw, "slow");
    expect(await client.callTool({ name: "echo", arguments: {} })).toMatchObject({ content: [{ type: "text" }] });
    await client.close();
  });

  it("a stdio command that cannot start gets a clear error naming it", async () => {
    const reply = await raw(gw.endpoint("missing-binary"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key) },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
    });
    const message = messagesOf(reply)[0] as { error: { data: { code: string; reason: string } } };
    expect(message.error.data.code).toBe("SENTINEL_UPSTREAM_UNAVAILABLE");
    expect(message.error.data.reason).toContain("/nonexistent/mcp-server");
  });
});

describe("stdio upstreams", () => {
  let gw: TestGateway;
  const record = join(scratch, "stdio.jsonl");

  beforeAll(async () => {
    process.env.SENTINEL_TEST_GATEWAY_SECRET = "must-not-reach-upstreams";
    gw = await startTestGateway({
      connections: [recordingStdio("rec", record, { env: { RECORD_FILE: record, UPSTREAM_TOKEN: "configured" }, restart: { initialDelayMs: 50 } } as never)],
      policies: allowAll,
    });
  });
  afterAll(async () => {
    delete process.env.SENTINEL_TEST_GATEWAY_SECRET;
    await gw.close();
  });

  it("a child gets its configured env and none of the gateway's own", async () => {
    const client = await connectClient(gw, "rec");
    const env = textOf(await client.callTool({ name: "whoami", arguments: {} })).env as string[];
    expect(env).toContain("UPSTREAM_TOKEN");
    expect(env).not.toContain("SENTINEL_TEST_GATEWAY_SECRET");
    expect(env).not.toContain("DATABASE_URL");
    await client.close();
  });

  it("after a crash the process restarts, the handshake is replayed, and the session goes on", async () => {
    const client = await connectClient(gw, "rec");
    const before = textOf(await client.callTool({ name: "whoami", arguments: {} })).pid;
    const crash = await client.callTool({ name: "crash", arguments: {} }).catch((e: unknown) => e);
    expect(crash).toMatchObject({ code: -32010, data: { code: "SENTINEL_UPSTREAM_UNAVAILABLE" } });
    const after = textOf(await client.callTool({ name: "whoami", arguments: {} })).pid;
    expect(after).not.toBe(before);
    const inits = recorded(record).filter((m) => m.method === "initialize");
    expect(inits.at(-1)!.id).toMatch(/^sentinel-reinit-/);
    await client.close();
  });

  it("each session gets its own process, and DELETE ends it", async () => {
    const a = await rawSession(gw, "rec");
    const b = await rawSession(gw, "rec");
    const call = async (sid: string) =>
      messagesOf(
        await raw(gw.endpoint("rec"), {
          method: "POST",
          headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "whoami", arguments: {} } }),
        }),
      )[0] as { result?: unknown; error?: { data: { code: string } } };
    const pidA = textOf((await call(a)).result).pid as number;
    const pidB = textOf((await call(b)).result).pid as number;
    expect(pidA).not.toBe(pidB);

    const del = await raw(gw.endpoint("rec"), { method: "DELETE", headers: { ...identityHeaders(gw.key), "mcp-session-id": a } });
    expect(del.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(() => process.kill(pidA, 0)).toThrow();
    const gone = await raw(gw.endpoint("rec"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": a },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }),
    });
    expect(gone.status).toBe(404);
    expect(textOf((await call(b)).result).pid).toBe(pidB);
  });

  it("a session id is only usable on the connection that opened it", async () => {
    const sid = await rawSession(gw, "rec");
    const reply = await raw(`${gw.url}/mcp/other`, {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
    });
    expect(reply.status).toBe(404);
  });
});

describe("config changes apply without a restart", () => {
  it("editing the config file flips a call's decision, with no dropped session", async () => {
    const file = join(scratch, "live.yaml");
    const record = join(scratch, "live.jsonl");
    const key = generateApiKey();
    const write = (action: "allow" | "deny") =>
      writeFileSync(
        file,
        stringify({
          version: 1,
          server: { host: "127.0.0.1", port: 0 },
          tenants: [
            {
              id: "acme",
              apiKeys: [{ id: "k", hash: key.hash }],
              connections: [recordingStdio("rec", record)],
              policies: [{ id: "echo-rule", target: "mcp.tool", pattern: "echo", action }],
            },
          ],
        }),
      );
    write("deny");
    const gw = await startGateway({ config: file, port: 0 });
    try {
      const endpoint = `${gw.url}/mcp/rec`;
      const headers = { ...MCP_POST_HEADERS, ...identityHeaders(key.key) };
      const init = await raw(endpoint, {
        method: "POST",
        headers,
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
      });
      const sid = init.headers.get("mcp-session-id")!;
      const echo = async () =>
        messagesOf(
          await raw(endpoint, {
            method: "POST",
            headers: { ...headers, "mcp-session-id": sid },
            body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "echo", arguments: {} } }),
          }),
        )[0]!;
      expect(await echo()).toMatchObject({ error: { data: { ruleId: "echo-rule" } } });

      const changed = Date.now();
      write("allow");
      let reply = await echo();
      while ("error" in reply && Date.now() - changed < 3000) {
        await new Promise((r) => setTimeout(r, 25));
        reply = await echo();
      }
      expect(reply).toMatchObject({ result: {} });
      expect(Date.now() - changed).toBeLessThan(1000);
      expect(toolCalls(record)).toEqual(["echo"]);
    } finally {
      await gw.close();
    }
  });

  it("a broken edit is reported and the running config stays in force", async () => {
    const file = join(scratch, "broken.yaml");
    const key = generateApiKey();
    writeFileSync(
      file,
      stringify({ version: 1, tenants: [{ id: "acme", apiKeys: [{ id: "k", hash: key.hash }], connections: [recordingStdio("rec", join(scratch, "b.jsonl"))] }] }),
    );
    const logs: string[] = [];
    const gw = await startGateway({ config: file, port: 0, log: (l) => logs.push(l) });
    try {
      writeFileSync(file, "version: 1\ntenants:\n  - id: acme\n    bogus: true\n");
      expect(gw.reload()).toBe(false);
      expect(logs.at(-1)).toMatch(/broken\.yaml: tenants\[0\]\.bogus: unknown property/);
      expect(gw.gateway.runtime.tenants.get("acme")!.connections.has("rec")).toBe(true);
    } finally {
      await gw.close();
    }
  });
});
