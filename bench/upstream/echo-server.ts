/**
 * The bench upstream: a deliberately small, fast MCP server over Streamable HTTP.
 *
 * It implements just what the end-to-end bench needs — initialize (issuing an Mcp-Session-Id),
 * notifications (202), ping, tools/list and tools/call for one `echo` tool that returns its
 * arguments as text — and always answers with plain JSON, never SSE. It runs on the native
 * uWebSockets.js server so that it costs as little CPU per call as possible: on a small machine
 * the upstream shares cores with the load generator and the proxy under test, and every
 * microsecond it spends is taken from them.
 *
 *   node --import tsx bench/upstream/echo-server.ts [--port 0]
 */
import { randomUUID } from "node:crypto";
import type { HttpResponse } from "uWebSockets.js";
import { loadUws } from "../../engine/front/uws.js";
import { announceReady, argValue, serveControl } from "../lib/child-side.js";

export const ECHO_TOOL_NAME = "echo";
const LATEST_VERSION = "2025-11-25";
const VERSIONS = new Set([LATEST_VERSION, "2025-06-18", "2025-03-26"]);
const ECHO_TOOL = {
  name: ECHO_TOOL_NAME,
  description: "Returns its arguments as text.",
  inputSchema: { type: "object", additionalProperties: true },
};

type Id = string | number;
interface Message {
  jsonrpc?: unknown;
  id?: Id | null;
  method?: unknown;
  params?: Record<string, unknown>;
}

interface Reply {
  status: string;
  body?: string;
  sessionId?: string;
}

const sessions = new Set<string>();

const result = (id: Id, value: unknown): Reply => ({ status: "200 OK", body: JSON.stringify({ jsonrpc: "2.0", id, result: value }) });
const failure = (status: string, id: Id | null, code: number, message: string): Reply => ({
  status,
  body: JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } }),
});

function handle(text: string, sessionId: string): Reply {
  let message: Message;
  try {
    message = JSON.parse(text) as Message;
  } catch {
    return failure("400 Bad Request", null, -32700, "parse error");
  }
  if (message === null || typeof message !== "object" || Array.isArray(message) || message.jsonrpc !== "2.0") {
    return failure("400 Bad Request", null, -32600, "expected one JSON-RPC 2.0 message");
  }
  // Notifications and responses to server requests are accepted without a body.
  if (message.id === undefined || message.id === null || typeof message.method !== "string") return { status: "202 Accepted" };
  const id = message.id;

  if (message.method === "initialize") {
    const asked = message.params?.protocolVersion;
    const session = randomUUID();
    sessions.add(session);
    return {
      ...result(id, {
        protocolVersion: typeof asked === "string" && VERSIONS.has(asked) ? asked : LATEST_VERSION,
        capabilities: { tools: { listChanged: false } },
        serverInfo: { name: "sentinel-bench-echo", version: "1.0.0" },
      }),
      sessionId: session,
    };
  }
  if (sessionId === "") return failure("400 Bad Request", id, -32600, "missing Mcp-Session-Id");
  if (!sessions.has(sessionId)) return failure("404 Not Found", id, -32001, "unknown session");

  switch (message.method) {
    case "ping":
      return result(id, {});
    case "tools/list":
      return result(id, { tools: [ECHO_TOOL] });
    case "tools/call": {
      if (message.params?.name !== ECHO_TOOL_NAME) return result(id, { content: [{ type: "text", text: "unknown tool" }], isError: true });
      return result(id, { content: [{ type: "text", text: JSON.stringify(message.params.arguments ?? {}) }] });
    }
    default:
      return failure("200 OK", id, -32601, `method ${message.method} not found`);
  }
}

function send(res: HttpResponse, reply: Reply): void {
  res.cork(() => {
    res.writeStatus(reply.status);
    if (reply.sessionId !== undefined) res.writeHeader("mcp-session-id", reply.sessionId);
    if (reply.body === undefined) {
      res.end();
      return;
    }
    res.writeHeader("content-type", "application/json");
    res.end(reply.body);
  });
}

const uws = loadUws();
const app = uws.App();

app.post("/mcp", (res, req) => {
  // The request object dies when this handler returns: copy what is needed now.
  const sessionId = req.getHeader("mcp-session-id");
  let aborted = false;
  res.onAborted(() => (aborted = true));
  const chunks: Buffer[] = [];
  res.onData((chunk, isLast) => {
    // uWS reuses the chunk's memory after the callback, so it is copied.
    chunks.push(Buffer.from(chunk.slice(0)));
    if (!isLast || aborted) return;
    send(res, handle(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"), sessionId));
  });
});

app.del("/mcp", (res, req) => {
  const sessionId = req.getHeader("mcp-session-id");
  sessions.delete(sessionId);
  send(res, { status: "200 OK" });
});

app.get("/mcp", (res) => {
  // No server-initiated stream: the spec's answer is 405.
  res.writeStatus("405 Method Not Allowed").writeHeader("allow", "POST, DELETE").end();
});

app.any("/*", (res) => {
  res.writeStatus("404 Not Found").end();
});

const port = Number(argValue("port", "0"));
app.listen("127.0.0.1", port, (token) => {
  if (token === false) {
    process.stderr.write(`echo-server: cannot listen on 127.0.0.1:${port}\n`);
    process.exit(1);
  }
  const bound = uws.us_socket_local_port(token as never);
  serveControl(() => uws.us_listen_socket_close(token));
  announceReady({ port: bound, url: `http://127.0.0.1:${bound}/mcp` });
});
