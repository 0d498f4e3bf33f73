/**
 * The bench upstream over Streamable HTTP: a deliberately small, fast MCP server (its MCP
 * behaviour is in echo-handler.ts, shared with the stdio build). initialize issues an
 * Mcp-Session-Id, notifications get 202, and answers are always plain JSON, never SSE. It runs
 * on the native uWebSockets.js server so that it costs as little CPU per call as possible: on a small machine
 * the upstream shares cores with the load generator and the proxy under test, and every
 * microsecond it spends is taken from them.
 *
 *   node --import tsx bench/upstream/echo-server.ts [--port 0]
 */
import { randomUUID } from "node:crypto";
import type { HttpResponse } from "uWebSockets.js";
import { loadUws } from "../../engine/front/uws.js";
import { announceReady, argValue, serveControl } from "../lib/child-side.js";
import { answerRequest, encodeAnswer, isEchoRequest, parseEchoMessage, type Id } from "./echo-handler.js";

interface Reply {
  status: string;
  body?: string;
  sessionId?: string;
}

const sessions = new Set<string>();

const failure = (status: string, id: Id | null, code: number, message: string): Reply => ({ status, body: encodeAnswer(id, { error: { code, message } }) });

function handle(text: string, sessionId: string): Reply {
  const message = parseEchoMessage(text);
  if (message === undefined) return failure("400 Bad Request", null, -32600, "expected one JSON-RPC 2.0 message");
  // Notifications and responses to server requests are accepted without a body.
  if (!isEchoRequest(message)) return { status: "202 Accepted" };
  if (message.method === "initialize") {
    const session = randomUUID();
    sessions.add(session);
    return { status: "200 OK", body: encodeAnswer(message.id, answerRequest(message.method, message.params)), sessionId: session };
  }
  if (sessionId === "") return failure("400 Bad Request", message.id, -32600, "missing Mcp-Session-Id");
  if (!sessions.has(sessionId)) return failure("404 Not Found", message.id, -32001, "unknown session");
  return { status: "200 OK", body: encodeAnswer(message.id, answerRequest(message.method, message.params)) };
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
