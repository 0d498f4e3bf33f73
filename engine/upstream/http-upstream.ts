/**
 * Streamable HTTP upstreams, over keep-alive undici pools. Short requests share a bounded pool;
 * long-lived GET streams get their own, so a burst of listening sessions can never starve calls
 * of connections.
 */
import { Pool, type Dispatcher } from "undici";
import type { HttpConnectionConfig } from "../config/types.js";
import { validateMessage, isRefusal, type JsonRpcMessage, type JsonRpcRequest } from "../mcp/jsonrpc.js";
import { SseParser } from "../mcp/sse.js";
import { AsyncQueue } from "./async-queue.js";
import { CALL_CREDENTIAL, credentialHeaders } from "./interceptors/credential-headers.js";
import { staticHeaders } from "./interceptors/static-headers.js";
import type { CallCredential, UpstreamConnection, UpstreamCredential, UpstreamEvent, UpstreamReply, UpstreamSession } from "./upstream.js";

export class UpstreamProtocolError extends Error {
  override readonly name = "UpstreamProtocolError";
}

export class HttpUpstream implements UpstreamConnection {
  readonly name: string;
  readonly timeoutMs: number;
  private readonly calls: Dispatcher;
  private readonly streams: Dispatcher;
  private readonly pools: Pool[];
  private readonly path: string;

  constructor(
    config: HttpConnectionConfig,
    private readonly credential?: UpstreamCredential,
  ) {
    this.name = config.name;
    this.timeoutMs = config.timeoutMs ?? 60_000;
    const url = new URL(config.url);
    this.path = url.pathname + url.search;
    const callPool = new Pool(url.origin, { connections: config.maxConnections ?? 64, keepAliveTimeout: 30_000 });
    const streamPool = new Pool(url.origin, { keepAliveTimeout: 30_000 });
    this.pools = [callPool, streamPool];
    const intercept = credential === undefined ? [staticHeaders(config.headers ?? {})] : [credentialHeaders(), staticHeaders(config.headers ?? {})];
    this.calls = callPool.compose(intercept);
    this.streams = streamPool.compose(intercept);
  }

  openSession(): UpstreamSession {
    return new HttpUpstreamSession(this);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close()));
  }

  /** @internal */
  async send(
    method: "POST" | "GET" | "DELETE",
    headers: Record<string, string>,
    body: string | undefined,
    stream: boolean,
    credential?: CallCredential,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Dispatcher.ResponseData["body"] }> {
    // Calls carry the version leased at the vault stage; other traffic (notifications, streams,
    // DELETE) uses the active version.
    const injected = credential ?? (this.credential === undefined ? undefined : await this.credential.current());
    const res = await (stream ? this.streams : this.calls).request({
      [CALL_CREDENTIAL]: injected,
      origin: undefined,
      path: this.path,
      method,
      headers,
      body,
      // Streams stay open as long as the session listens; the gateway session enforces the
      // per-request timeout itself, so undici's body timeout must not cut a quiet stream.
      bodyTimeout: 0,
      headersTimeout: this.timeoutMs,
    } as Dispatcher.RequestOptions);
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }
}

class HttpUpstreamSession implements UpstreamSession {
  protocolVersion: string | undefined;
  private sessionId: string | undefined;

  constructor(private readonly upstream: HttpUpstream) {}

  private headers(accept: string, extra?: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { accept, ...extra };
    if (this.sessionId !== undefined) h["mcp-session-id"] = this.sessionId;
    if (this.protocolVersion !== undefined) h["mcp-protocol-version"] = this.protocolVersion;
    return h;
  }

  async request(message: JsonRpcRequest, credential?: CallCredential): Promise<UpstreamReply> {
    const isInit = message.method === "initialize";
    const res = await this.upstream.send(
      "POST",
      this.headers("application/json, text/event-stream", { "content-type": "application/json" }),
      JSON.stringify(message),
      false,
      credential,
    );
    if (isInit && res.status === 200) {
      const sid = header(res.headers, "mcp-session-id");
      if (sid !== undefined) this.sessionId = sid;
    }
    return toReply(res);
  }

  async deliver(message: JsonRpcMessage): Promise<UpstreamReply> {
    const res = await this.upstream.send(
      "POST",
      this.headers("application/json, text/event-stream", { "content-type": "application/json" }),
      JSON.stringify(message),
      false,
    );
    return toReply(res);
  }

  async listen(lastEventId: string | undefined): Promise<UpstreamReply> {
    const extra: Record<string, string> = lastEventId === undefined ? {} : { "last-event-id": lastEventId };
    const res = await this.upstream.send("GET", this.headers("text/event-stream", extra), undefined, true);
    return toReply(res);
  }

  async terminate(): Promise<void> {
    if (this.sessionId === undefined) return;
    try {
      const res = await this.upstream.send("DELETE", this.headers("application/json, text/event-stream"), undefined, false);
      await res.body.dump();
    } catch {
      // The upstream may already be gone; ending our side is what matters.
    }
  }
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function toReply(res: Awaited<ReturnType<HttpUpstream["send"]>>): Promise<UpstreamReply> {
  const contentType = header(res.headers, "content-type")?.split(";")[0]?.trim().toLowerCase();
  if (res.status === 202) {
    await res.body.dump();
    return { kind: "accepted" };
  }
  if (res.status === 200 && contentType === "text/event-stream") {
    // Destroying an unfinished body aborts its request in undici, so no AbortController (and its
    // signal listeners) is needed on every call just to be able to cancel the rare stream.
    return { kind: "stream", events: readEvents(res.body), cancel: () => res.body.destroy() };
  }
  const text = await res.body.text();
  if (res.status === 200 && contentType === "application/json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UpstreamProtocolError("upstream answered with invalid JSON");
    }
    const message = validateMessage(parsed);
    if (isRefusal(message)) throw new UpstreamProtocolError(`upstream answered with an invalid JSON-RPC message: ${message.reason}`);
    return { kind: "json", message };
  }
  return { kind: "status", status: res.status, body: text, contentType };
}

function readEvents(body: AsyncIterable<Uint8Array>): AsyncIterable<UpstreamEvent> {
  const queue = new AsyncQueue<UpstreamEvent>();
  const parser = new SseParser((ev) => {
    let message: JsonRpcMessage | undefined;
    if (ev.data !== "") {
      try {
        const m = validateMessage(JSON.parse(ev.data));
        if (!isRefusal(m)) message = m;
      } catch {
        message = undefined;
      }
      // An event whose data is not a JSON-RPC message is dropped rather than forwarded:
      // downstream clients must only ever receive well-formed MCP.
      if (message === undefined) return;
    }
    const { data: _data, ...sse } = ev;
    queue.push({ message, sse });
  });
  void (async () => {
    try {
      for await (const chunk of body) parser.push(chunk as Uint8Array);
    } catch {
      // Aborted by cancel() or the upstream went away; either way the stream just ends.
    } finally {
      queue.end();
    }
  })();
  return queue;
}
