/**
 * The floor for any proxy on Sentinel's stack: a bare pass-through with the same front
 * (native uWebSockets.js, loaded as the gateway loads it) and the same upstream client (an
 * undici keep-alive Pool with the gateway's default size). It forwards the body and the MCP
 * transport headers untouched and copies the answer back — no JSON parsing, no auth, no
 * policy, no id remapping. Whatever the gateway adds on top of this is the cost of governance.
 *
 * Answers are buffered, not streamed: the bench upstream answers plain JSON only.
 *
 *   node --import tsx bench/targets/bare-proxy.ts --upstream http://127.0.0.1:PORT/mcp [--port 0]
 */
import { Pool } from "undici";
import type { HttpResponse } from "uWebSockets.js";
import { loadUws } from "../../engine/front/uws.js";
import { announceReady, argValue, serveControl } from "../lib/child-side.js";

/** The request headers an MCP Streamable HTTP exchange needs end to end. */
const FORWARDED_REQUEST_HEADERS = ["content-type", "accept", "mcp-session-id", "mcp-protocol-version", "last-event-id"] as const;

const STATUS_TEXT: Record<number, string> = { 200: "OK", 202: "Accepted", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 502: "Bad Gateway" };
const statusLine = (status: number): string => `${status} ${STATUS_TEXT[status] ?? "Unknown"}`;

const upstream = new URL(argValue("upstream", "http://127.0.0.1:8081/mcp"));
const upstreamPath = upstream.pathname + upstream.search;
const pool = new Pool(upstream.origin, { connections: 64, keepAliveTimeout: 30_000 });

type Method = "GET" | "POST" | "DELETE";

async function forward(res: HttpResponse, method: Method, headers: Record<string, string>, body: Buffer | undefined, aborted: () => boolean): Promise<void> {
  let status: number;
  let contentType: string | undefined;
  let sessionId: string | undefined;
  let payload: ArrayBuffer;
  try {
    const reply = await pool.request({ path: upstreamPath, method, headers, body });
    status = reply.statusCode;
    contentType = one(reply.headers["content-type"]);
    sessionId = one(reply.headers["mcp-session-id"]);
    payload = await reply.body.arrayBuffer();
  } catch {
    status = 502;
    contentType = undefined;
    sessionId = undefined;
    payload = new ArrayBuffer(0);
  }
  if (aborted()) return;
  // Written outside the request handler's synchronous part, so the writes are corked.
  res.cork(() => {
    res.writeStatus(statusLine(status));
    if (contentType !== undefined) res.writeHeader("content-type", contentType);
    if (sessionId !== undefined) res.writeHeader("mcp-session-id", sessionId);
    res.end(payload);
  });
}

const one = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

const uws = loadUws();
const app = uws.App();

app.any("/*", (res, req) => {
  const method = req.getMethod().toUpperCase();
  if (method !== "GET" && method !== "POST" && method !== "DELETE") {
    res.writeStatus(statusLine(405)).end();
    return;
  }
  // The request object is only valid during this call: copy the headers now.
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.getHeader(name);
    if (value !== "") headers[name] = value;
  }
  let aborted = false;
  res.onAborted(() => (aborted = true));
  const isAborted = (): boolean => aborted;
  if (method !== "POST") {
    void forward(res, method, headers, undefined, isAborted);
    return;
  }
  const chunks: Buffer[] = [];
  res.onData((chunk, isLast) => {
    // uWS reuses the chunk's memory after the callback, so it is copied.
    chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast) void forward(res, method, headers, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), isAborted);
  });
});

const port = Number(argValue("port", "0"));
app.listen("127.0.0.1", port, (token) => {
  if (token === false) {
    process.stderr.write(`bare-proxy: cannot listen on 127.0.0.1:${port}\n`);
    process.exit(1);
  }
  const bound = uws.us_socket_local_port(token as never);
  serveControl(async () => {
    uws.us_listen_socket_close(token);
    await pool.close();
  });
  announceReady({ port: bound, url: `http://127.0.0.1:${bound}/mcp` });
});
