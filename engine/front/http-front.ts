/**
 * The uWebSockets.js front: turns uWS requests into IncomingRequest/DownstreamExchange for the
 * gateway. Everything uWS-specific lives in this folder.
 *
 * uWS rules that shape this file: the request object is only valid synchronously inside the
 * handler, so headers are copied up front; the response must register onAborted before any
 * asynchronous step; chunks from onData are views into memory uWS reuses, so they are copied;
 * and writes outside the handler's synchronous part must be corked.
 */
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from "uWebSockets.js";
import { ERRORS, refuse, toJsonRpcError } from "../errors.js";
import type { DownstreamExchange, DownstreamStream, IncomingRequest } from "../gateway/downstream.js";
import { llmErrorBody } from "../llm/llm-errors.js";
import { LLM_PATH_PREFIX } from "../llm/llm-routes.js";
import { encodeSse, type SseEvent } from "../mcp/sse.js";
import { loadUws } from "./uws.js";

export interface FrontOptions {
  host: string;
  port: number;
  maxBodyBytes: () => number;
  handle(req: IncomingRequest, ex: DownstreamExchange): Promise<void>;
}

export interface RunningFront {
  readonly port: number;
  readonly url: string;
  close(): void;
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
  404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict", 413: "Payload Too Large",
  415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
  503: "Service Unavailable", 504: "Gateway Timeout",
};
const statusLine = (status: number) => `${status} ${STATUS_TEXT[status] ?? "Unknown"}`;

/** SSE comment lines keep idle streams alive through proxies that cut quiet connections. */
const HEARTBEAT_MS = 15_000;

export function startFront(options: FrontOptions): Promise<RunningFront> {
  const uws = loadUws();
  const app: TemplatedApp = uws.App();
  const open = new Set<UwsExchange>();

  app.any("/*", (res, req) => {
    const ex = new UwsExchange(res, open);
    const incoming = readRequest(req, res);
    const limit = options.maxBodyBytes();

    if (incoming.method !== "POST" && incoming.method !== "PUT" && incoming.method !== "PATCH") {
      dispatch(options, { ...incoming, body: "" }, ex);
      return;
    }
    const declared = Number(incoming.headers.get("content-length") ?? NaN);
    if (declared > limit) return tooLarge(ex, limit, incoming.path);

    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (ex.aborted || ex.responded) return;
      size += chunk.byteLength;
      if (size > limit) return tooLarge(ex, limit, incoming.path);
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) dispatch(options, { ...incoming, body: Buffer.concat(chunks, size).toString("utf8") }, ex);
    });
  });

  return new Promise((resolve, reject) => {
    app.listen(options.host, options.port, (token: us_listen_socket | false) => {
      if (token === false) {
        reject(new Error(`cannot listen on ${options.host}:${options.port} (address in use or not available)`));
        return;
      }
      const port = uws.us_socket_local_port(token as never);
      const hostForUrl = options.host.includes(":") ? `[${options.host}]` : options.host;
      resolve({
        port,
        url: `http://${hostForUrl}:${port}`,
        close() {
          uws.us_listen_socket_close(token);
          for (const ex of open) ex.forceClose();
        },
      });
    });
  });
}

function dispatch(options: FrontOptions, req: IncomingRequest, ex: UwsExchange): void {
  options.handle(req, ex).catch((err: unknown) => {
    process.stderr.write(`sentinel: unhandled error: ${(err as Error).stack ?? String(err)}\n`);
    if (!ex.responded) ex.sendJson(500, { jsonrpc: "2.0", id: null, error: toJsonRpcError(refuse("SENTINEL_INTERNAL", "internal error")) });
  });
}

function tooLarge(ex: UwsExchange, limit: number, path: string): void {
  const refusal = refuse("SENTINEL_BODY_TOO_LARGE", `the body exceeds the ${limit}-byte limit`);
  // The LLM path speaks OpenAI's error format, the MCP path JSON-RPC.
  const body = path.startsWith(LLM_PATH_PREFIX) ? llmErrorBody(refusal) : { jsonrpc: "2.0", id: null, error: toJsonRpcError(refusal) };
  // Closing after the reply stops the client from streaming the rest of an oversized body.
  ex.sendJson(ERRORS.SENTINEL_BODY_TOO_LARGE.http, body, true);
}

function readRequest(req: HttpRequest, res: HttpResponse): Omit<IncomingRequest, "body"> {
  const headers = new Map<string, string>();
  req.forEach((name, value) => {
    const prior = headers.get(name);
    headers.set(name, prior === undefined ? value : `${prior}, ${value}`);
  });
  return {
    method: req.getMethod().toUpperCase(),
    path: req.getUrl(),
    query: req.getQuery() ?? "",
    headers,
    remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
  };
}

class UwsExchange implements DownstreamExchange {
  aborted = false;
  responded = false;
  private readonly headers: Array<[string, string]> = [];
  private readonly abortListeners: Array<() => void> = [];
  private stream: UwsStream | undefined;

  constructor(
    private readonly res: HttpResponse,
    private readonly open: Set<UwsExchange>,
  ) {
    open.add(this);
    res.onAborted(() => {
      this.aborted = true;
      this.open.delete(this);
      this.stream?.markClosed();
      for (const listener of this.abortListeners) listener();
    });
  }

  onAbort(listener: () => void): void {
    if (this.aborted) listener();
    else this.abortListeners.push(listener);
  }

  setHeader(name: string, value: string): void {
    this.headers.push([name, value]);
  }

  sendJson(status: number, body: unknown, closeConnection = false): void {
    this.end(status, JSON.stringify(body), "application/json", closeConnection);
  }

  sendText(status: number, body: string, contentType: string): void {
    this.end(status, body, contentType, false);
  }

  sendEmpty(status: number): void {
    this.end(status, undefined, undefined, false);
  }

  openStream(): DownstreamStream {
    if (this.responded) throw new Error("response already started");
    this.responded = true;
    this.stream = new UwsStream(this.res, () => this.done());
    if (this.aborted) {
      this.stream.markClosed();
      return this.stream;
    }
    this.res.cork(() => {
      this.res.writeStatus("200 OK");
      this.writeHeaders();
      this.res.writeHeader("content-type", "text/event-stream");
      this.res.writeHeader("cache-control", "no-cache, no-transform");
      // An initial comment flushes the headers, so the client sees the stream open at once.
      this.res.write(": sentinel\n\n");
    });
    return this.stream;
  }

  forceClose(): void {
    if (!this.aborted) this.res.close();
  }

  private end(status: number, body: string | undefined, contentType: string | undefined, closeConnection: boolean): void {
    if (this.responded || this.aborted) return;
    this.responded = true;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      this.writeHeaders();
      if (contentType !== undefined) this.res.writeHeader("content-type", contentType);
      this.res.end(body ?? "", closeConnection);
    });
    this.done();
  }

  private writeHeaders(): void {
    for (const [name, value] of this.headers) this.res.writeHeader(name, value);
  }

  private done(): void {
    this.open.delete(this);
  }
}

class UwsStream implements DownstreamStream {
  closed = false;
  private heartbeat: NodeJS.Timeout;

  constructor(
    private readonly res: HttpResponse,
    private readonly onClose: () => void,
  ) {
    this.heartbeat = setInterval(() => this.write(": keepalive\n\n"), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  send(event: SseEvent): void {
    this.write(encodeSse(event));
  }

  close(): void {
    if (this.closed) return;
    this.markClosed();
    this.res.cork(() => this.res.end());
    this.onClose();
  }

  markClosed(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
  }

  private write(chunk: string): void {
    if (this.closed) return;
    // uWS buffers what the socket cannot take yet; the return value only reports backpressure.
    this.res.cork(() => this.res.write(chunk));
  }
}
