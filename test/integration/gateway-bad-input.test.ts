import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  demoConnection,
  identityHeaders,
  initializeBody,
  MCP_POST_HEADERS,
  messagesOf,
  raw,
  rawSession,
  startTestGateway,
  type TestGateway,
} from "../support/gateway-harness.js";

const developer = { user: "alice@acme.com", metadata: { role: "developer" } };

describe("bad input gets a clear error and the gateway keeps serving", () => {
  let gw: TestGateway;
  let sid: string;
  let url: string;
  let headers: Record<string, string>;

  beforeAll(async () => {
    gw = await startTestGateway(
      {
        connections: [demoConnection()],
        policies: [{ id: "read", target: "mcp.tool", pattern: "repo.read", action: "allow" }],
      },
      { maxBodyBytes: 4096 },
    );
    url = gw.endpoint("github-prod");
    sid = await rawSession(gw, "github-prod", developer);
    headers = { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid };
  });
  afterAll(() => gw.close());

  const call = (body: string, extra: Record<string, string> = {}) => raw(url, { method: "POST", headers: { ...headers, ...extra }, body });

  it.each([
    ["malformed JSON", "{not json", 400, "SENTINEL_PARSE_ERROR", -32700],
    ["a JSON-RPC batch array", JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "ping" }]), 400, "SENTINEL_INVALID_REQUEST", -32600],
    ["params that are an array", JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: ["repo.read"] }), 400, "SENTINEL_INVALID_PARAMS", -32602],
    ["params that are a string", JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: "x" }), 400, "SENTINEL_INVALID_PARAMS", -32602],
    ["a null id", JSON.stringify({ jsonrpc: "2.0", id: null, method: "ping" }), 400, "SENTINEL_INVALID_REQUEST", -32600],
    ["a missing jsonrpc member", JSON.stringify({ id: 1, method: "ping" }), 400, "SENTINEL_INVALID_REQUEST", -32600],
    ["a bare JSON string", JSON.stringify("ping"), 400, "SENTINEL_INVALID_REQUEST", -32600],
  ])("%s is refused with %i and %s", async (_what, body, status, code, jsonrpc) => {
    const reply = await call(body);
    expect(reply.status).toBe(status);
    const error = (reply.json as { error: { code: number; data: { code: string; reason: string } } }).error;
    expect(error.code).toBe(jsonrpc);
    expect(error.data.code).toBe(code);
    expect(error.data.reason.length).toBeGreaterThan(10);
  });

  it("an oversized body is refused with 413 before it is read whole", async () => {
    const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "repo.read", arguments: { pad: "x".repeat(10_000) } } });
    const reply = await call(big);
    expect(reply.status).toBe(413);
    expect((reply.json as { error: { data: { code: string } } }).error.data.code).toBe("SENTINEL_BODY_TOO_LARGE");
  });

  it("a wrong content type is refused with 415", async () => {
    const reply = await call(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }), { "content-type": "text/plain" });
    expect(reply.status).toBe(415);
  });

  it("a missing Accept header is refused with 406", async () => {
    const { accept: _accept, ...noAccept } = headers;
    const reply = await raw(url, { method: "POST", headers: noAccept, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }) });
    expect(reply.status).toBe(406);
    expect((reply.json as { error: { data: { code: string } } }).error.data.code).toBe("SENTINEL_NOT_ACCEPTABLE");
  });

  it("an Accept header without text/event-stream is refused with 406", async () => {
    const reply = await call(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }), { accept: "application/json" });
    expect(reply.status).toBe(406);
  });

  it("an unknown connection is 404", async () => {
    const reply = await raw(gw.endpoint("no-such-connection"), { method: "POST", headers, body: initializeBody() });
    expect(reply.status).toBe(404);
    expect((reply.json as { error: { data: { code: string } } }).error.data.code).toBe("SENTINEL_UNKNOWN_CONNECTION");
  });

  it("an unknown session is 404, as the spec requires", async () => {
    const reply = await call(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }), { "mcp-session-id": "00000000-0000-4000-8000-000000000000" });
    expect(reply.status).toBe(404);
    expect((reply.json as { error: { data: { code: string } } }).error.data.code).toBe("SENTINEL_UNKNOWN_SESSION");
  });

  it("a request other than initialize without a session id is 400", async () => {
    const { "mcp-session-id": _sid, ...noSession } = headers;
    const reply = await raw(url, { method: "POST", headers: noSession, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }) });
    expect(reply.status).toBe(400);
    expect((reply.json as { error: { data: { code: string } } }).error.data.code).toBe("SENTINEL_SESSION_REQUIRED");
  });

  it("an unsupported MCP-Protocol-Version is 400", async () => {
    const reply = await call(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }), { "mcp-protocol-version": "1999-01-01" });
    expect(reply.status).toBe(400);
  });

  it("an HTTP method other than GET, POST and DELETE is 405 with an Allow header", async () => {
    const reply = await raw(url, { method: "PUT", headers, body: "{}" });
    expect(reply.status).toBe(405);
    expect(reply.headers.get("allow")).toBe("GET, POST, DELETE");
  });

  it("a response to a server request that was never sent is refused", async () => {
    const reply = await call(JSON.stringify({ jsonrpc: "2.0", id: "sentinel-999", result: {} }));
    expect(reply.status).toBe(400);
  });

  it("the gateway still serves a good call after all of the above", async () => {
    const reply = await call(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "repo.read", arguments: { repo: "acme/api" } } }));
    expect(reply.status).toBe(200);
    const [message] = messagesOf(reply);
    expect(message).toMatchObject({ jsonrpc: "2.0", id: 7, result: { content: [{ type: "text" }] } });
    expect((await raw(`${gw.url}/healthz`, {})).status).toBe(200);
  });

  it("unknown paths are 404 and health, readiness and metrics answer", async () => {
    expect((await raw(`${gw.url}/nope`, {})).status).toBe(404);
    expect((await raw(`${gw.url}/readyz`, {})).json).toMatchObject({ status: "ready" });
    const metrics = await raw(`${gw.url}/metrics`, {});
    expect(metrics.text).toContain("sentinel_requests_total");
    expect(metrics.text).toMatch(/sentinel_stage_latency_seconds\{stage="policy",quantile="0.5"\} [0-9.e-]+/);
    expect(metrics.text).toContain('sentinel_refusals_total{code="SENTINEL_PARSE_ERROR"}');
  });
});

describe("authentication", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ connections: [demoConnection()] });
  });
  afterAll(() => gw.close());

  it.each([
    ["no Authorization header", {}, "SENTINEL_AUTH_MISSING"],
    ["an unknown key", { authorization: "Bearer sk_sentinel_wrong" }, "SENTINEL_AUTH_INVALID"],
    ["a Basic credential", { authorization: "Basic YWxpY2U6cGFzcw==" }, "SENTINEL_AUTH_INVALID"],
    ["two bearer tokens", { authorization: "Bearer a b" }, "SENTINEL_AUTH_INVALID"],
  ])("%s gets 401 with a JSON-RPC error body", async (_what, auth, code) => {
    const reply = await raw(gw.endpoint("github-prod"), { method: "POST", headers: { ...MCP_POST_HEADERS, ...auth }, body: initializeBody() });
    expect(reply.status).toBe(401);
    expect(reply.json).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32001, data: { code } } });
  });

  it("an unauthenticated caller learns nothing about which connections exist", async () => {
    const reply = await raw(`${gw.url}/mcp/secret-connection`, { method: "POST", headers: MCP_POST_HEADERS, body: initializeBody() });
    expect(reply.status).toBe(401);
  });

  it("a Host header that is not a loopback name is refused (DNS rebinding)", async () => {
    const reply = await raw(gw.endpoint("github-prod"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), host: "evil.example.com" },
      body: initializeBody(),
    });
    expect(reply.status).toBe(403);
  });

  it("a foreign Origin is refused", async () => {
    const reply = await raw(gw.endpoint("github-prod"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), origin: "http://evil.example.com" },
      body: initializeBody(),
    });
    expect(reply.status).toBe(403);
    expect((reply.json as { error: { data: { code: string } } }).error.data.code).toBe("SENTINEL_FORBIDDEN_ORIGIN");
  });
});
