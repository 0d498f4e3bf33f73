/**
 * Error mapping against a tiny local HTTP server that speaks just enough MCP-over-HTTP to answer
 * the way the gateway does: results, JSON-RPC errors carrying Sentinel data inside a 200,
 * transport-level refusals (401/404 with a JSON-RPC error body), SSE responses, and failures
 * that carry no Sentinel data at all.
 */
import { createServer } from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Igris, SentinelError, TransportError, UpstreamError } from "./index.js";
import { sentinelRefusalFromBody, toIgrisError } from "./errors.js";

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: { method?: string; id?: unknown; params?: { name?: string } } | undefined;
}

const seen: Seen[] = [];
let server: Server;
let baseUrl: string;
const SESSION = "sess_test_1";

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
};

const send = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void => {
  res.writeHead(status, { "content-type": "application/json", "x-sentinel-trace-id": `trace_${seen.length}`, ...extra });
  res.end(JSON.stringify(body));
};

const refusal = (code: string, reason: string, jsonrpc: number, more: Record<string, unknown> = {}) => ({
  code: jsonrpc,
  message: `${code}: ${reason}`,
  data: { code, reason, ...more },
});

const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const raw = req.method === "POST" ? await readBody(req) : "";
  const body = raw === "" ? undefined : (JSON.parse(raw) as Seen["body"]);
  seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });

  if (req.url === "/plain-404/mcp/x") {
    res.writeHead(404, { "content-type": "text/plain" }).end("no such route");
    return;
  }
  if (req.headers.authorization !== "Bearer sk_good") {
    send(res, 401, { jsonrpc: "2.0", id: null, error: refusal("SENTINEL_AUTH_INVALID", "The API key is unknown or revoked.", -32001) });
    return;
  }
  if (req.url !== "/mcp/github-prod") {
    send(res, 404, { jsonrpc: "2.0", id: null, error: refusal("SENTINEL_UNKNOWN_CONNECTION", "No connection named nope.", -32004) });
    return;
  }
  if (req.method === "GET") {
    res.writeHead(405).end();
    return;
  }
  if (req.method === "DELETE") {
    res.writeHead(200).end();
    return;
  }
  if (body === undefined) throw new Error("POST without a body");
  const { id } = body;
  const result = (value: unknown) => send(res, 200, { jsonrpc: "2.0", id, result: value }, { "mcp-session-id": SESSION });
  const error = (value: unknown) => send(res, 200, { jsonrpc: "2.0", id, error: value });

  switch (body.method) {
    case "initialize":
      result({ protocolVersion: "2025-06-18", capabilities: { tools: {}, resources: {}, prompts: {} }, serverInfo: { name: "fake-gateway", version: "0" } });
      return;
    case "notifications/initialized":
      res.writeHead(202).end();
      return;
    case "tools/list":
      result({ tools: [{ name: "repo.read", inputSchema: { type: "object" } }] });
      return;
    case "tools/call":
      break;
    default:
      error({ code: -32601, message: "Method not found" });
      return;
  }
  switch (body.params?.name) {
    case "repo.read":
      result({ content: [{ type: "text", text: '{"repo":"acme/api"}' }] });
      return;
    case "repo.delete":
      error(refusal("SENTINEL_POLICY_DENIED", "role !∈ {admin}", -32003, { ruleId: "deny-delete", traceId: "trace_a4f9c2" }));
      return;
    case "tool.failed":
      result({ content: [{ type: "text", text: "repository not found" }], isError: true });
      return;
    case "upstream.rpc":
      error({ code: -32602, message: "Invalid arguments for tool upstream.rpc", data: { field: "repo" } });
      return;
    case "rate.limited": {
      const message = { jsonrpc: "2.0", id, error: refusal("SENTINEL_RATE_LIMITED", "100 req / min", -32005, { retryAfterMs: 1500 }) };
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
      return;
    }
    case "http.forbidden":
      send(res, 403, { jsonrpc: "2.0", id, error: refusal("SENTINEL_IDENTITY_CHANGED", "user changed", -32002) });
      return;
    case "http.500":
      res.writeHead(500, { "content-type": "text/html" }).end("<h1>oops</h1>");
      return;
    case "slow":
      return; // never answered; the server closes it at the end
    default:
      error({ code: -32602, message: `Unknown tool ${body.params?.name}` });
  }
};

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
});

const connect = (apiKey = "sk_good", connection = "github-prod") =>
  new Igris({ apiKey, baseUrl }).connect(connection, { user: "alice@acme.com", metadata: { role: "developer", tenant: "acme", team: "Zoë's" } });

describe("GovernedConnection against a Sentinel-shaped server", () => {
  it("sends the identity headers on every request and ends the session on close", async () => {
    const mcp = await connect();
    expect(mcp.sessionId).toBe(SESSION);
    await mcp.call("repo.read", { repo: "acme/api" });
    await mcp.close();
    await mcp.close();

    const posts = seen.filter((s) => s.method === "POST");
    expect(posts.map((s) => s.body?.method)).toEqual(["initialize", "notifications/initialized", "tools/call"]);
    for (const s of posts) {
      expect(s.headers.authorization).toBe("Bearer sk_good");
      expect(s.headers["x-sentinel-user"]).toBe("alice@acme.com");
      expect(s.headers["x-sentinel-metadata"]).toBe('{"role":"developer","tenant":"acme","team":"Zo\\u00eb\'s"}');
      expect(JSON.parse(s.headers["x-sentinel-metadata"] as string)).toEqual({ role: "developer", tenant: "acme", team: "Zoë's" });
    }
    expect(posts[2]?.headers["mcp-session-id"]).toBe(SESSION);
    expect(seen.filter((s) => s.method === "DELETE")).toHaveLength(1);
    expect(mcp.closed).toBe(true);
  });

  it("returns results, including a tool's own isError result", async () => {
    const mcp = await connect();
    const ok = await mcp.call("repo.read", { repo: "acme/api" });
    expect(ok.content).toEqual([{ type: "text", text: '{"repo":"acme/api"}' }]);
    expect(mcp.lastTraceId).toMatch(/^trace_/);
    const failed = await mcp.call("tool.failed", {});
    expect(failed.isError).toBe(true);
    expect((await mcp.listTools()).map((t) => t.name)).toEqual(["repo.read"]);
    await mcp.close();
  });

  it("maps a policy refusal inside a 200 to SentinelError", async () => {
    const mcp = await connect();
    const error = await mcp.call("repo.delete", { repo: "acme/api" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect(error).toMatchObject({
      name: "SentinelError",
      code: "SENTINEL_POLICY_DENIED",
      reason: "role !∈ {admin}",
      ruleId: "deny-delete",
      traceId: "trace_a4f9c2",
      jsonRpcCode: -32003,
      httpStatus: undefined,
      message: "SENTINEL_POLICY_DENIED: role !∈ {admin}",
    });
    await mcp.close();
  });

  it("maps a refusal delivered over SSE, with retryAfterMs", async () => {
    const mcp = await connect();
    await expect(mcp.call("rate.limited")).rejects.toMatchObject({ code: "SENTINEL_RATE_LIMITED", retryAfterMs: 1500 });
    await mcp.close();
  });

  it("maps other JSON-RPC errors to UpstreamError, which is an McpError", async () => {
    const mcp = await connect();
    const error = await mcp.call("upstream.rpc", {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toBeInstanceOf(McpError);
    expect(error).not.toBeInstanceOf(SentinelError);
    expect(error).toMatchObject({
      name: "UpstreamError",
      code: -32602,
      data: { field: "repo" },
      message: "MCP error -32602: Invalid arguments for tool upstream.rpc",
    });
    await mcp.close();
  });

  it("maps an HTTP-level refusal with a Sentinel body to SentinelError with its status", async () => {
    const mcp = await connect();
    await expect(mcp.call("http.forbidden")).rejects.toMatchObject({
      name: "SentinelError",
      code: "SENTINEL_IDENTITY_CHANGED",
      httpStatus: 403,
      jsonRpcCode: -32002,
    });
    await mcp.close();
  });

  it("maps an HTTP failure without a Sentinel body to TransportError", async () => {
    const mcp = await connect();
    const error = await mcp.call("http.500").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ status: 500, body: "<h1>oops</h1>" });
    expect((error as Error).message).toMatch(/^HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/mcp\/github-prod: <h1>oops<\/h1>$/);
    await mcp.close();
  });

  it("maps a local timeout to TransportError and an abort to the signal's reason", async () => {
    const mcp = await connect();
    await expect(mcp.call("slow", {}, { timeoutMs: 50 })).rejects.toThrow(/No answer from .* within 50ms/);
    const controller = new AbortController();
    const pending = mcp.call("slow", {}, { signal: controller.signal });
    controller.abort(new Error("user gave up"));
    await expect(pending).rejects.toThrow("user gave up");
    await mcp.close();
    await expect(mcp.call("repo.read")).rejects.toThrow(/is closed/);
  });
});

describe("refusals before a session exists", () => {
  it("a bad API key (401 + JSON-RPC body) rejects connect with SentinelError", async () => {
    const error = await connect("sk_bad").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect(error).toMatchObject({ code: "SENTINEL_AUTH_INVALID", httpStatus: 401, jsonRpcCode: -32001, traceId: "trace_1" });
    expect(seen).toHaveLength(1);
  });

  it("an unknown connection (404 + JSON-RPC body) rejects connect with SentinelError", async () => {
    await expect(connect("sk_good", "nope")).rejects.toMatchObject({ code: "SENTINEL_UNKNOWN_CONNECTION", httpStatus: 404 });
  });

  it("a 404 without a Sentinel body is a TransportError", async () => {
    const error = await new Igris({ apiKey: "sk_good", baseUrl: `${baseUrl}/plain-404` }).connect("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ status: 404, body: "no such route" });
  });

  it("an unreachable gateway is a TransportError naming the address", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await new Igris({ apiKey: "k", baseUrl: `http://127.0.0.1:${port}` }).connect("github-prod").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as Error).message).toMatch(new RegExp(`^Cannot reach Sentinel at http://127\\.0\\.0\\.1:${port}/mcp/github-prod: .*ECONNREFUSED`));
  });

  it("uses a custom fetch when given one", async () => {
    const urls: string[] = [];
    const igris = new Igris({
      apiKey: "sk_good",
      baseUrl,
      fetch: (url, init) => {
        urls.push(String(url));
        return fetch(url, init);
      },
    });
    const mcp = await igris.connect("github-prod");
    await mcp.close();
    expect(urls.length).toBeGreaterThanOrEqual(2);
    expect(seen.find((s) => s.body?.method === "initialize")?.headers["x-sentinel-user"]).toBeUndefined();
  });
});

describe("toIgrisError / sentinelRefusalFromBody", () => {
  it("reads a refusal out of a body, a batch, or nothing", () => {
    const data = { code: "SENTINEL_POLICY_DENIED", reason: "no" };
    expect(sentinelRefusalFromBody(JSON.stringify({ jsonrpc: "2.0", id: 1, error: { code: -32003, message: "x", data } }))).toEqual({ data, jsonRpcCode: -32003 });
    expect(sentinelRefusalFromBody(JSON.stringify([{ jsonrpc: "2.0", id: 1, error: { code: -32003, message: "x", data } }]))?.data).toEqual(data);
    expect(sentinelRefusalFromBody(JSON.stringify({ error: { code: 1, data: { code: "OTHER", reason: "r" } } }))).toBeUndefined();
    expect(sentinelRefusalFromBody("<html>")).toBeUndefined();
  });

  it("reads a refusal out of the transport's own error when the fetch wrapper did not see it", () => {
    const body = JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "m", data: { code: "SENTINEL_AUTH_MISSING", reason: "No key" } } });
    const raw = new StreamableHTTPError(401, `Error POSTing to endpoint: ${body}`);
    expect(raw.message).toBe(`Streamable HTTP error: Error POSTing to endpoint: ${body}`);
    expect(toIgrisError(raw, "http://x/mcp/y")).toMatchObject({ name: "SentinelError", code: "SENTINEL_AUTH_MISSING", httpStatus: 401, jsonRpcCode: -32001 });
    expect(toIgrisError(new StreamableHTTPError(502, "Error POSTing to endpoint: bad gateway"), "http://x/mcp/y")).toMatchObject({
      name: "TransportError",
      status: 502,
      message: "HTTP 502 from http://x/mcp/y: bad gateway",
    });
  });

  it("maps the client's local close to TransportError", () => {
    expect(toIgrisError(new McpError(-32000, "Connection closed"), "http://x")).toBeInstanceOf(TransportError);
  });

  it("passes unknown errors through unchanged", () => {
    const weird = new RangeError("bug");
    expect(toIgrisError(weird, "http://x")).toBe(weird);
  });
});
