import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectClient,
  identityHeaders,
  initializeBody,
  MCP_POST_HEADERS,
  messagesOf,
  raw,
  rawSession,
  recorded,
  recordingStdio,
  startTestGateway,
  toolCalls,
  type TestGateway,
} from "../support/gateway-harness.js";

const scratch = mkdtempSync(join(tmpdir(), "sentinel-policy-"));

describe("deny by default", () => {
  let gw: TestGateway;
  const record = join(scratch, "deny-default.jsonl");
  beforeAll(async () => {
    gw = await startTestGateway({ connections: [recordingStdio("rec", record)] });
  });
  afterAll(() => gw.close());

  it("with no policy every tool call is refused with a clear reason, and none reaches the upstream", async () => {
    const client = await connectClient(gw, "rec", { user: "alice" });
    const error = await client.callTool({ name: "echo", arguments: {} }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: -32003, data: { code: "SENTINEL_POLICY_DENIED", ruleId: "default-deny" } });
    expect((error as { data: { reason: string } }).data.reason).toMatch(/deny by default/);
    expect(toolCalls(record)).toEqual([]);
    await client.close();
  });

  it("with no policy tools/list shows nothing", async () => {
    const client = await connectClient(gw, "rec");
    expect((await client.listTools()).tools).toEqual([]);
    await client.close();
  });
});

describe("a denied call never gets through", () => {
  let gw: TestGateway;
  let url: string;
  let headers: Record<string, string>;
  const record = join(scratch, "adversarial.jsonl");

  beforeAll(async () => {
    gw = await startTestGateway({
      connections: [recordingStdio("rec", record)],
      policies: [
        { id: "no-deletes", target: "mcp.tool", pattern: "*.delete", action: "deny" },
        { id: "admins-only-crash", target: "mcp.tool", pattern: "crash", conditions: [{ field: "role", op: "eq", value: "admin" }], action: "allow" },
        { id: "others", target: "mcp.tool", pattern: "{echo,repo.*,sleep,whoami}", action: "allow" },
      ],
    });
    url = gw.endpoint("rec");
    const sid = await rawSession(gw, "rec", { user: "mallory", metadata: { role: "developer" } });
    headers = { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid };
  });
  afterAll(() => gw.close());

  const callRaw = async (body: string) => messagesOf(await raw(url, { method: "POST", headers, body }))[0]!;
  const callTool = (name: string, id = 1) =>
    callRaw(JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: { repo: "acme/api" } } }));

  it.each([
    ["upper case", "Repo.Delete"],
    ["a trailing space", "repo.delete "],
    ["a leading tab", "\trepo.delete"],
    ["a zero-width space", "repo.de\u200Blete"],
    ["a right-to-left override", "repo.\u202Edelete"],
    ["full-width letters", "ｒｅｐｏ.ｄｅｌｅｔｅ"],
    ["a Cyrillic е", "repo.d\u0435lete"],
    ["a Greek ο", "rep\u03BF.delete"],
    ["mathematical bold letters", "𝐫𝐞𝐩𝐨.delete"],
    ["a soft hyphen", "repo.del\u00ADete"],
  ])("%s cannot slip past a rule for *.delete", async (_what, name) => {
    const before = toolCalls(record).length;
    const reply = await callTool(name);
    expect(reply).toMatchObject({ error: { data: { code: "SENTINEL_POLICY_DENIED", ruleId: "no-deletes" } } });
    expect(toolCalls(record).length).toBe(before);
  });

  it("with duplicate keys the upstream receives exactly the name policy judged", async () => {
    // JSON.parse keeps the last "name"; a parser keeping the first would see repo.delete.
    // The gateway forwards its own re-serialisation, so the two can never disagree.
    const reply = await callRaw('{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"repo.delete","name":"echo","arguments":{}}}');
    expect(reply).toMatchObject({ id: 2, result: {} });
    expect(toolCalls(record).at(-1)).toBe("echo");

    const denied = await callRaw('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","name":"repo.delete","arguments":{}}}');
    expect(denied).toMatchObject({ id: 3, error: { data: { code: "SENTINEL_POLICY_DENIED" } } });
    expect(toolCalls(record)).not.toContain("repo.delete");
  });

  it("a role condition is not met by restating the role mid-session", async () => {
    const reply = await raw(url, {
      method: "POST",
      headers: { ...headers, "x-sentinel-metadata": JSON.stringify({ role: "admin" }) },
      body: JSON.stringify({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "crash" } }),
    });
    expect(reply.status).toBe(403);
    expect(reply.json).toMatchObject({ error: { data: { code: "SENTINEL_IDENTITY_CHANGED" } } });
    expect(toolCalls(record)).not.toContain("crash");
  });

  it("restating the same identity, or none, is accepted", async () => {
    const same = await raw(url, {
      method: "POST",
      headers: { ...headers, "x-sentinel-user": "mallory", "x-sentinel-metadata": JSON.stringify({ role: "developer" }) },
      body: JSON.stringify({ jsonrpc: "2.0", id: 5, method: "ping" }),
    });
    expect(same.status).toBe(200);
  });

  it("a tools/call without a string name is refused as invalid params", async () => {
    const reply = await callRaw(JSON.stringify({ jsonrpc: "2.0", id: 6, method: "tools/call", params: { name: 42 } }));
    expect(reply).toMatchObject({ id: 6, error: { code: -32602, data: { code: "SENTINEL_INVALID_PARAMS" } } });
  });

  it("tools/list hides what the caller cannot call", async () => {
    const reply = await callRaw(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/list" }));
    const names = ((reply.result as { tools: Array<{ name: string }> }).tools ?? []).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["echo", "sleep", "repo.read", "whoami"]));
    expect(names).not.toContain("repo.delete");
    expect(names).not.toContain("crash");
  });

  it("two requests in flight with the same id: the second is refused, the first completes", async () => {
    const slow = raw(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ jsonrpc: "2.0", id: "dup", method: "tools/call", params: { name: "sleep", arguments: { ms: 400 } } }),
    });
    await new Promise((r) => setTimeout(r, 100));
    const second = await callRaw(JSON.stringify({ jsonrpc: "2.0", id: "dup", method: "tools/call", params: { name: "echo", arguments: {} } }));
    expect(second).toMatchObject({ id: "dup", error: { data: { code: "SENTINEL_INVALID_REQUEST" } } });
    expect(messagesOf(await slow)[0]).toMatchObject({ id: "dup", result: {} });
  });

  it("string and numeric ids that look alike are different ids, each answered as sent", async () => {
    const [a, b] = await Promise.all([
      callRaw(JSON.stringify({ jsonrpc: "2.0", id: 10, method: "ping" })),
      callRaw(JSON.stringify({ jsonrpc: "2.0", id: "10", method: "ping" })),
    ]);
    expect(a!.id).toBe(10);
    expect(b!.id).toBe("10");
  });

  it("the upstream never sees the client's ids (they are remapped)", async () => {
    const reply = await callRaw(JSON.stringify({ jsonrpc: "2.0", id: "client-chosen-id", method: "tools/call", params: { name: "echo", arguments: { marker: "remap" } } }));
    expect(reply.id).toBe("client-chosen-id");
    const seen = recorded(record).filter((m) => (m.params as { arguments?: { marker?: string } } | undefined)?.arguments?.marker === "remap");
    expect(seen).toHaveLength(1);
    expect(typeof seen[0]!.id).toBe("number");
  });
});

describe("identity headers", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ connections: [recordingStdio("rec", join(scratch, "identity.jsonl"))] });
  });
  afterAll(() => gw.close());

  it.each([
    ["metadata that names another tenant", { "x-sentinel-metadata": JSON.stringify({ tenant: "globex" }) }],
    ["metadata that is not JSON", { "x-sentinel-metadata": "{role:admin" }],
    ["metadata that is a list", { "x-sentinel-metadata": "[1,2]" }],
    ["nested metadata", { "x-sentinel-metadata": JSON.stringify({ role: { admin: true } }) }],
    ["the same key given twice with different values", { "x-sentinel-metadata": JSON.stringify({ role: "dev" }), "x-sentinel-meta-role": "admin" }],
    ["an empty user", { "x-sentinel-user": " " }],
  ])("%s is refused at initialize", async (_what, extra) => {
    const reply = await raw(gw.endpoint("rec"), { method: "POST", headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), ...extra }, body: initializeBody() });
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ error: { data: { code: "SENTINEL_IDENTITY_INVALID" } } });
  });

  it("metadata that repeats the key's own tenant is accepted", async () => {
    const reply = await raw(gw.endpoint("rec"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "x-sentinel-metadata": JSON.stringify({ tenant: "acme", role: "developer" }) },
      body: initializeBody(),
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("mcp-session-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
