/**
 * One downstream MCP session and the upstream session behind it.
 *
 * Ids are remapped in both directions. Client requests get fresh upstream ids, so a client can
 * never collide with the gateway's own requests to the same upstream and one client's ids are
 * never another's; server→client requests (sampling, elicitation, roots) get gateway ids, so the
 * gateway can later originate requests of its own (approval prompts) on the same stream.
 * `notifications/cancelled` is rewritten with the same maps. Server requests and the client's
 * answers to them pass Content Guard and Token Guard on the way (exchange-guard.ts).
 */
import { refuse, toJsonRpcError, type Refusal } from "../errors.js";
import { isNotification, isRequest, isResponse, type JsonRpcId, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from "../mcp/jsonrpc.js";
import type { StatedIdentity } from "../auth/identity.js";
import type { CallCredential, UpstreamConnection, UpstreamEvent, UpstreamReply, UpstreamSession } from "../upstream/upstream.js";
import { UpstreamUnavailableError } from "../upstream/stdio-upstream.js";
import { UpstreamProtocolError } from "../upstream/http-upstream.js";
import type { DownstreamExchange, DownstreamStream } from "./downstream.js";
import type { ExchangeGuard } from "./exchange-guard.js";

export interface SessionOwner {
  readonly tenantId: string;
  readonly keyHash: string;
  readonly connection: string;
  readonly identity: StatedIdentity;
  /** The identity headers exactly as sent at initialize, for a cheap equality check later. */
  readonly identityFingerprint: string;
}

/**
 * Rewrites a final result before it goes downstream (list filtering, Content Guard). It may
 * return a promise (a large result inspected in the worker pool) or a WithheldResult, which
 * answers the call with a gateway error instead of the result.
 */
export type ResultRewrite = (result: unknown) => unknown;

export class WithheldResult {
  constructor(readonly refusal: Refusal) {}
}

/** Removes the connection credential's secrets from what the upstream sends back (engine/vault). */
export interface SecretScrubber {
  scrubber(): { readonly empty: boolean; json<T>(value: T): T; text(s: string): string };
}

interface ClientCall {
  readonly downstreamId: JsonRpcId;
  readonly rewrite: ResultRewrite | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Delivers a gateway-made final answer (timeout) to wherever the call is being answered. */
  abandon: ((response: JsonRpcResponse) => void) | undefined;
}

export class GatewaySession {
  lastActive = Date.now();
  private nextUpstreamId = 1;
  private nextServerRequestId = 1;
  private readonly calls = new Map<number, ClientCall>();
  private readonly callsByDownstreamId = new Map<JsonRpcId, number>();
  /** Server requests awaiting the client's answer, by gateway id: the upstream's id and the method. */
  private readonly serverRequests = new Map<string, { readonly upstreamId: JsonRpcId; readonly method: string }>();
  private readonly serverRequestsByUpstreamId = new Map<JsonRpcId, string>();
  private listening: DownstreamStream | undefined;
  private ended = false;
  /** Set when the upstream forgets the session (404): the next request learns it is gone. */
  onUpstreamLost: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly owner: SessionOwner,
    private readonly connection: UpstreamConnection,
    readonly upstream: UpstreamSession,
    private readonly secrets?: SecretScrubber,
    private readonly guard?: ExchangeGuard,
  ) {}

  get protocolVersion(): string | undefined {
    return this.upstream.protocolVersion;
  }

  get inFlight(): number {
    return this.calls.size;
  }

  /** Forwards a client request and answers it on `ex`, as JSON or as a stream, like the upstream. */
  async request(message: JsonRpcRequest, ex: DownstreamExchange, rewrite?: ResultRewrite, credential?: CallCredential): Promise<void> {
    this.lastActive = Date.now();
    if (this.callsByDownstreamId.has(message.id)) {
      ex.sendJson(200, errorResponse(message.id, refuse("SENTINEL_INVALID_REQUEST", `request id ${JSON.stringify(message.id)} is already in flight on this session`)));
      return;
    }
    const upstreamId = this.nextUpstreamId++;
    const call: ClientCall = { downstreamId: message.id, rewrite, timer: undefined, abandon: undefined };
    this.calls.set(upstreamId, call);
    this.callsByDownstreamId.set(message.id, upstreamId);

    let answered = false;
    call.abandon = (response) => {
      if (answered || ex.aborted) return;
      answered = true;
      ex.sendJson(200, response);
    };
    call.timer = setTimeout(() => this.timeOut(upstreamId), this.connection.timeoutMs);

    let reply: UpstreamReply;
    try {
      reply = await this.upstream.request({ ...message, id: upstreamId }, credential);
    } catch (err) {
      const final = this.finish(upstreamId);
      if (final !== undefined && !answered) {
        answered = true;
        ex.sendJson(200, errorResponse(final.downstreamId, upstreamFault(err)));
      }
      return;
    }
    if (answered) {
      if (reply.kind === "stream") reply.cancel();
      return;
    }

    switch (reply.kind) {
      case "json": {
        answered = true;
        let out = this.fromUpstream(reply.message);
        if (out instanceof Promise) out = await out;
        if (out !== undefined) ex.sendJson(200, out);
        else ex.sendEmpty(202);
        if (message.method === "initialize" && out !== undefined) this.learnVersion(out);
        return;
      }
      case "accepted":
        answered = true;
        this.finish(upstreamId);
        ex.sendJson(200, errorResponse(message.id, refuse("SENTINEL_UPSTREAM_PROTOCOL", "the upstream accepted a request without answering it")));
        return;
      case "status":
        answered = true;
        this.finish(upstreamId);
        this.passStatus(reply, ex);
        return;
      case "stream": {
        answered = true;
        const stream = ex.openStream();
        call.abandon = (response) => {
          reply.cancel();
          if (!stream.closed) {
            stream.send({ data: JSON.stringify(response) }, response);
            stream.close();
          }
        };
        ex.onAbort(() => reply.cancel());
        await this.pump(reply.events, stream, (out) => {
          if (isResponse(out)) {
            if (message.method === "initialize") this.learnVersion(out);
          } else if (isNotification(out) && out.method === "notifications/progress") {
            // A call that reports progress is alive: its timeout starts over, as the spec advises.
            this.restartTimer(upstreamId);
          }
        });
        return;
      }
    }
  }

  /** The method of the server request a client response answers (for its audit record), if one awaits it. */
  answeredMethod(id: JsonRpcId): string | undefined {
    return this.serverRequests.get(typeof id === "string" ? id : String(id))?.method;
  }

  /** Forwards a client notification or a response to a server request. */
  async deliver(message: JsonRpcMessage, ex: DownstreamExchange): Promise<void> {
    this.lastActive = Date.now();
    let out: JsonRpcMessage = message;
    if (isResponse(message)) {
      const key = typeof message.id === "string" ? message.id : String(message.id);
      const pending = this.serverRequests.get(key);
      if (pending === undefined) {
        // A response to nothing we asked: accepting it silently would hide client bugs,
        // forwarding it would let a client answer requests it was never sent.
        ex.sendJson(400, errorResponse(null, refuse("SENTINEL_INVALID_REQUEST", `no server request with id ${JSON.stringify(message.id)} is awaiting an answer`)));
        return;
      }
      this.serverRequests.delete(key);
      this.serverRequestsByUpstreamId.delete(pending.upstreamId);
      const answer: JsonRpcResponse = { ...message, id: pending.upstreamId };
      // A withheld answer reaches the server as an error for its request; the client's POST is
      // still accepted, the client did nothing wrong by answering.
      const rewrite = "result" in message ? this.guard?.answerRewrite(pending.method) : undefined;
      const rewritten = rewrite === undefined ? answer : withResult(answer, rewrite(message.result));
      out = rewritten instanceof Promise ? await rewritten : rewritten;
    } else if (isNotification(message) && message.method === "notifications/cancelled") {
      const requestId = message.params?.requestId as JsonRpcId | undefined;
      const upstreamId = requestId === undefined ? undefined : this.callsByDownstreamId.get(requestId);
      if (upstreamId === undefined) {
        ex.sendEmpty(202);
        return;
      }
      out = { ...message, params: { ...message.params, requestId: upstreamId } };
    }
    let reply: UpstreamReply;
    try {
      reply = await this.upstream.deliver(out);
    } catch (err) {
      ex.sendJson(502, errorResponse(null, upstreamFault(err)));
      return;
    }
    if (reply.kind === "status") this.passStatus(reply, ex);
    else {
      if (reply.kind === "stream") reply.cancel();
      ex.sendEmpty(202);
    }
  }

  /** The GET stream: server-initiated messages, or the rest of a broken stream when resuming. */
  async listen(lastEventId: string | undefined, ex: DownstreamExchange): Promise<void> {
    this.lastActive = Date.now();
    if (lastEventId === undefined && this.listening !== undefined && !this.listening.closed) {
      ex.sendJson(409, errorResponse(null, refuse("SENTINEL_INVALID_REQUEST", "a GET stream is already open for this session")));
      return;
    }
    let reply: UpstreamReply;
    try {
      reply = await this.upstream.listen(lastEventId);
    } catch (err) {
      ex.sendJson(502, errorResponse(null, upstreamFault(err)));
      return;
    }
    if (reply.kind !== "stream") {
      if (reply.kind === "status") this.passStatus(reply, ex);
      else ex.sendEmpty(reply.kind === "accepted" ? 202 : 200);
      return;
    }
    const stream = ex.openStream();
    if (lastEventId === undefined) this.listening = stream;
    ex.onAbort(() => reply.cancel());
    await this.pump(reply.events, stream, undefined);
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    for (const upstreamId of [...this.calls.keys()]) {
      const call = this.finish(upstreamId);
      call?.abandon?.(errorResponse(call.downstreamId, refuse("SENTINEL_UNKNOWN_SESSION", "the session ended")));
    }
    this.listening?.close();
    await this.upstream.terminate();
  }

  /** Copies upstream events to a downstream stream, translating ids, until either side ends. */
  private async pump(events: AsyncIterable<UpstreamEvent>, stream: DownstreamStream, onMessage: ((m: JsonRpcMessage) => void) | undefined): Promise<void> {
    for await (const ev of events) {
      if (stream.closed) break;
      if (ev.message === undefined) {
        // A priming or keep-alive event: pass its id and retry on so resumption works.
        stream.send({ ...ev.sse, data: "" });
        continue;
      }
      let out = this.fromUpstream(ev.message);
      if (out instanceof Promise) out = await out;
      if (out === undefined || stream.closed) continue;
      stream.send({ ...ev.sse, data: JSON.stringify(out) }, out);
      onMessage?.(out);
    }
    stream.close();
  }

  /** Translates one upstream message for the client; undefined when it must not go down. */
  private fromUpstream(upstreamMessage: JsonRpcMessage): JsonRpcMessage | Promise<JsonRpcMessage | undefined> | undefined {
    // Every upstream message bound for the client passes here (JSON answers, per-call SSE
    // streams, the GET stream), so this is the one place a secret echoed by the upstream is
    // replaced by its mask before it can reach the agent.
    const scrub = this.secrets?.scrubber();
    const message = scrub === undefined || scrub.empty ? upstreamMessage : scrub.json(upstreamMessage);
    if (isResponse(message)) {
      if (typeof message.id !== "number") return undefined;
      const call = this.finish(message.id);
      if (call === undefined) return undefined;
      const out: JsonRpcResponse = { ...message, id: call.downstreamId };
      if (call.rewrite !== undefined && "result" in message) return withResult(out, call.rewrite(message.result));
      return out;
    }
    if (isRequest(message)) {
      const refusal = this.guard?.serverRequest(message);
      if (refusal instanceof Promise) return refusal.then((r) => (r === undefined ? this.toClient(message) : this.refuseServer(message.id, r)));
      return refusal === undefined ? this.toClient(message) : this.refuseServer(message.id, refusal);
    }
    if (message.method === "notifications/cancelled") {
      const requestId = message.params?.requestId as JsonRpcId | undefined;
      const gatewayId = requestId === undefined ? undefined : this.serverRequestsByUpstreamId.get(requestId);
      if (gatewayId === undefined) return undefined;
      this.serverRequestsByUpstreamId.delete(requestId!);
      this.serverRequests.delete(gatewayId);
      return { ...message, params: { ...message.params, requestId: gatewayId } };
    }
    return message;
  }

  /** A server request on its way to the client, under a gateway id. */
  private toClient(message: JsonRpcRequest): JsonRpcRequest {
    const gatewayId = `sentinel-${this.nextServerRequestId++}`;
    this.serverRequests.set(gatewayId, { upstreamId: message.id, method: message.method });
    this.serverRequestsByUpstreamId.set(message.id, gatewayId);
    return { ...message, id: gatewayId };
  }

  /** Answers a server request the guard refused in the client's place; the client never sees it. */
  private refuseServer(upstreamId: JsonRpcId, refusal: Refusal): undefined {
    void this.upstream.deliver(errorResponse(upstreamId, refusal)).then(
      (reply) => (reply.kind === "stream" ? reply.cancel() : undefined),
      () => undefined,
    );
    return undefined;
  }

  private finish(upstreamId: number): ClientCall | undefined {
    const call = this.calls.get(upstreamId);
    if (call === undefined) return undefined;
    clearTimeout(call.timer);
    this.calls.delete(upstreamId);
    this.callsByDownstreamId.delete(call.downstreamId);
    return call;
  }

  private restartTimer(upstreamId: number): void {
    const call = this.calls.get(upstreamId);
    if (call === undefined) return;
    clearTimeout(call.timer);
    call.timer = setTimeout(() => this.timeOut(upstreamId), this.connection.timeoutMs);
  }

  private timeOut(upstreamId: number): void {
    const call = this.finish(upstreamId);
    if (call === undefined) return;
    const seconds = this.connection.timeoutMs / 1000;
    call.abandon?.(errorResponse(call.downstreamId, refuse("SENTINEL_UPSTREAM_TIMEOUT", `upstream "${this.connection.name}" did not answer within ${seconds}s`)));
    // Tell the upstream to stop working on it; the spec's way to abandon a request.
    void this.upstream
      .deliver({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: upstreamId, reason: "gateway timeout" } })
      .catch(() => undefined);
  }

  private learnVersion(message: JsonRpcMessage): void {
    const v = isResponse(message) ? (message.result as { protocolVersion?: unknown } | undefined)?.protocolVersion : undefined;
    if (typeof v === "string") this.upstream.protocolVersion = v;
  }

  private passStatus(reply: Extract<UpstreamReply, { kind: "status" }>, ex: DownstreamExchange): void {
    if (reply.status === 404) {
      // The upstream no longer knows this session (it restarted or expired it). Per spec the
      // client must start over, so this session ends too.
      this.onUpstreamLost?.();
      ex.sendJson(404, errorResponse(null, refuse("SENTINEL_UNKNOWN_SESSION", "the upstream ended this session; initialize a new one")));
      return;
    }
    const scrub = this.secrets?.scrubber();
    ex.sendText(reply.status, scrub === undefined ? reply.body : scrub.text(reply.body), reply.contentType ?? "text/plain");
  }
}

/** A rewrite's answer in place: a result, a result to come, or an error instead of it. */
function withResult(out: JsonRpcResponse, rewritten: unknown): JsonRpcResponse | Promise<JsonRpcResponse> {
  if (rewritten instanceof Promise) return rewritten.then((r: unknown) => withResult(out, r));
  if (rewritten instanceof WithheldResult) return errorResponse(out.id, rewritten.refusal);
  out.result = rewritten;
  return out;
}

export function errorResponse(id: JsonRpcId | null, refusal: Refusal, traceId?: string): JsonRpcResponse {
  return { jsonrpc: "2.0", id: id as JsonRpcId, error: toJsonRpcError(refusal, traceId) };
}

function upstreamFault(err: unknown): Refusal {
  if (err instanceof UpstreamProtocolError) return refuse("SENTINEL_UPSTREAM_PROTOCOL", err.message);
  if (err instanceof UpstreamUnavailableError) return refuse("SENTINEL_UPSTREAM_UNAVAILABLE", err.message);
  const code = (err as { code?: string }).code;
  if (code === "UND_ERR_HEADERS_TIMEOUT") return refuse("SENTINEL_UPSTREAM_TIMEOUT", "the upstream did not answer in time");
  return refuse("SENTINEL_UPSTREAM_UNAVAILABLE", `the upstream could not be reached${code ? ` (${code})` : ""}`);
}
