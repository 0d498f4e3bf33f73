/**
 * A tiny HTTP forwarder that adds `Authorization: Bearer <key>` to every request, for clients
 * that cannot send headers of their own (the MCP conformance suite's client).
 *
 * Requests and responses are streamed through unchanged in both directions: method, path,
 * query, status and every end-to-end header are kept as they are (Host and Origin included, so
 * the target's DNS-rebinding checks see what the client sent), and response bodies are written
 * chunk by chunk as they arrive, so an SSE stream is never buffered. Only the hop-by-hop
 * `Connection`/`Keep-Alive` headers are left to each hop, and an `Authorization` header from
 * the client is replaced by the configured one.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface AuthForwarderOptions {
  /** Where to forward to, e.g. `http://127.0.0.1:1234` (path and query come from each request). */
  target: string;
  /** The API key sent as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** Listen port; 0 (the default) picks a free one. */
  port?: number;
}

export interface AuthForwarder {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Requests forwarded so far. */
  readonly forwarded: number;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection"]);

export async function startAuthForwarder(options: AuthForwarderOptions): Promise<AuthForwarder> {
  const target = new URL(options.target);
  if (target.protocol !== "http:") throw new Error(`auth forwarder: only http targets are supported, not ${target.protocol}`);
  const agent = new Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  let forwarded = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    forwarded++;
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name) || name === "authorization") continue;
      headers[name] = value;
    }
    headers.authorization = `Bearer ${options.apiKey}`;

    const upstream = httpRequest({
      host: target.hostname,
      port: target.port === "" ? 80 : Number(target.port),
      method: req.method,
      path: req.url,
      headers,
      agent,
      // Host comes from the client's own header above, untouched.
      setHost: false,
    });
    upstream.on("socket", (s) => s.setNoDelay(true));

    upstream.on("response", (up) => {
      const raw: string[] = [];
      for (let i = 0; i < up.rawHeaders.length; i += 2) {
        if (HOP_BY_HOP.has(up.rawHeaders[i]!.toLowerCase())) continue;
        raw.push(up.rawHeaders[i]!, up.rawHeaders[i + 1]!);
      }
      res.writeHead(up.statusCode ?? 502, up.statusMessage, raw);
      // Send the status line and headers now: an SSE client must see its stream open before
      // the first event arrives.
      res.flushHeaders();
      // pipe() writes each chunk as it arrives (with backpressure), never waiting for the end.
      up.pipe(res);
      up.on("error", () => res.destroy());
      up.on("aborted", () => res.destroy());
    });

    upstream.on("error", (err) => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(`auth forwarder: ${err.message}`);
      } else {
        res.destroy();
      }
    });

    // The client went away (e.g. closed an SSE stream): stop the upstream exchange too.
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
    req.on("error", () => upstream.destroy());
  });

  server.on("connection", (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get forwarded() {
      return forwarded;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      agent.destroy();
      await closed;
    },
  };
}
