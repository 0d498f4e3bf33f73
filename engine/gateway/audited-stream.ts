/**
 * A downstream SSE stream under audit. Events pass straight through until the one that answers
 * the call: the JSON-RPC response carrying the request's id. That event records the call, and
 * it and everything after it (the end of the stream included) wait until the record is
 * acknowledged, exactly as a JSON answer waits. Progress notifications and server requests
 * before it are not the answer and are not held: a long call keeps streaming.
 *
 * Without a request id the stream itself is the answer (the session's GET stream): it is not
 * even opened, no status line goes down, until its record is acknowledged.
 */
import { ERRORS } from "../errors.js";
import type { JsonRpcId, JsonRpcMessage } from "../mcp/jsonrpc.js";
import type { SseEvent } from "../mcp/sse.js";
import type { AuditOutcome } from "../audit/record.js";
import type { DownstreamStream } from "./downstream.js";

/** What a JSON-RPC answer says about the call's outcome. */
export function outcomeOf(body: unknown, httpStatus: number): AuditOutcome {
  const msg = body as { result?: { isError?: unknown }; error?: { code?: unknown; data?: { code?: unknown } } } | undefined;
  if (msg?.error !== undefined) {
    const own = msg.error.data?.code;
    const code = typeof own === "string" && own in ERRORS ? own : `jsonrpc:${String(msg.error.code)}`;
    return { code, httpStatus, status: "error" };
  }
  // Members in canonical (sorted) order, so the record encoder need not sort them.
  if (httpStatus >= 400) return { code: `http:${httpStatus}`, httpStatus, status: "error" };
  return { httpStatus, status: msg?.result?.isError === true ? "tool_error" : "ok" };
}

export type Answered = (outcome: AuditOutcome, release: () => void) => void;

/** The outcome of a stream that ended before the call's answer was sent. */
export const STREAM_ENDED: AuditOutcome = { code: "stream-closed", httpStatus: 200, status: "error" };

export class AuditedStream implements DownstreamStream {
  private inner: DownstreamStream | undefined = undefined;
  /** Events waiting for the record; undefined while events pass straight through. */
  private held: SseEvent[] | undefined = undefined;
  private answeredYet = false;
  private closing = false;

  constructor(
    private readonly open: () => DownstreamStream,
    private readonly requestId: JsonRpcId | undefined,
    private readonly answered: Answered,
  ) {
    if (requestId === undefined) {
      this.held = [];
      this.answeredYet = true;
    } else this.inner = open();
  }

  /** Closing was asked for (it may still wait for the record), or the client went away. */
  get closed(): boolean {
    return this.closing || (this.inner?.closed ?? false);
  }

  send(event: SseEvent, message?: JsonRpcMessage): void {
    if (this.held !== undefined) {
      this.held.push(event);
      return;
    }
    const outcome = this.answeredYet ? undefined : this.answerIn(event, message);
    if (outcome === undefined) return this.inner!.send(event);
    this.answeredYet = true;
    // Held before recording: with `async` durability the release runs inside `answered`.
    this.held = [event];
    this.answered(outcome, () => this.release());
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.held !== undefined) return; // closed on release, after the held events
    if (!this.answeredYet) {
      this.answeredYet = true;
      this.held = [];
      this.answered(STREAM_ENDED, () => this.release());
      return;
    }
    this.inner!.close();
  }

  /** Sends what was held once the record is acknowledged, in order, and ends the stream if asked to. */
  release(): void {
    this.inner ??= this.open();
    const events = this.held ?? [];
    this.held = undefined;
    for (const event of events) this.inner.send(event);
    if (this.closing) this.inner.close();
  }

  private answerIn(event: SseEvent, message: JsonRpcMessage | undefined): AuditOutcome | undefined {
    let m: unknown = message;
    if (m === undefined) {
      // Senders that did not hand over the message: only text that can be a response is parsed.
      if (!event.data.includes('"result"') && !event.data.includes('"error"')) return undefined;
      try {
        m = JSON.parse(event.data);
      } catch {
        return undefined;
      }
    }
    const r = m as { method?: unknown; id?: unknown } | null;
    if (r === null || typeof r !== "object" || r.method !== undefined || r.id !== this.requestId) return undefined;
    return outcomeOf(r, 200);
  }
}
