/**
 * Streamed answers (`stream: true`), event by event.
 *
 * Passed through (`relay`): each upstream event is parsed, noted and sent on as soon as it
 * arrives; nothing is buffered. The gateway reads the output pieces (to estimate output tokens
 * if the stream is cut) and the usage (the chat and completion endpoints get
 * `stream_options.include_usage` forced on, so their last chunk carries it; the Responses API
 * reports it in its terminal event). A client that did not ask for usage gets the stream it
 * asked for: the usage chunk is dropped and the `usage: null` members removed.
 *
 * Held (`hold`, when response inspection is on): the events are collected until the stream
 * ends, the output is inspected as whole texts (a value split over two deltas is still found),
 * and only then are the events sent, redacted, or replaced by an error when a deny pattern
 * matched or the output is over its cap. Nothing unscanned goes down, at the price of the
 * client seeing the answer all at once; README, "LLM calls", says so.
 */
import type { DownstreamExchange } from "../gateway/downstream.js";
import { SseParser, type SseEvent } from "../mcp/sse.js";
import { deltasOf } from "./llm-answer.js";
import { isObject } from "./llm-request.js";
import type { EndpointName } from "./llm-routes.js";
import type { LlmReply } from "./llm-upstream.js";
import { readUsage, type TokenUsage } from "./llm-usage.js";

export interface HeldEvent {
  readonly event: SseEvent;
  /** Parsed data, rewritten in place by inspection; undefined for `[DONE]` and non-JSON data. */
  readonly data: Record<string, unknown> | undefined;
}

export interface StreamEnd {
  /** Usage as the provider reported it, if it did. */
  readonly usage: TokenUsage | undefined;
  /** The output text seen, per delta key. */
  readonly texts: ReadonlyMap<string, string>;
  /** complete: the provider ended the answer; cut: the stream stopped before that; aborted: the client left. */
  readonly end: "complete" | "cut" | "aborted";
  /** Held events, in order (hold mode only). */
  readonly events: readonly HeldEvent[];
}

const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed"]);

class StreamReader {
  usage: TokenUsage | undefined = undefined;
  finished = false;
  readonly texts = new Map<string, string>();

  constructor(
    private readonly endpoint: EndpointName,
    /** Remove the usage the gateway asked for and the client did not. */
    private readonly stripUsage: boolean,
  ) {}

  /** Notes one event; returns what to send, or undefined to drop it. */
  read(event: SseEvent): HeldEvent | undefined {
    if (event.data === "[DONE]") {
      this.finished = true;
      return { event, data: undefined };
    }
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return { event, data: undefined };
    }
    if (!isObject(data)) return { event, data: undefined };
    for (const d of deltasOf(this.endpoint, data)) this.texts.set(d.key, (this.texts.get(d.key) ?? "") + (d.holder[d.field] as string));
    if (this.endpoint === "responses") {
      if (TERMINAL.has(data.type as string)) {
        this.finished = true;
        this.usage = readUsage(isObject(data.response) ? data.response.usage : undefined) ?? this.usage;
      }
      return { event, data };
    }
    this.usage = readUsage(data.usage) ?? this.usage;
    if (this.stripUsage && "usage" in data) {
      if (data.usage !== null && Array.isArray(data.choices) && data.choices.length === 0) return undefined;
      delete data.usage;
      return { event: { ...event, data: JSON.stringify(data) }, data };
    }
    return { event, data };
  }
}

/**
 * Reads the provider's stream to its end. `send` gets each event as it arrives (relay), or
 * nothing is sent and the events are returned (hold). A client that leaves stops the read.
 */
export async function readStream(
  endpoint: EndpointName,
  reply: LlmReply,
  ex: DownstreamExchange,
  stripUsage: boolean,
  /** `final`: this event ends the answer (`[DONE]`, or the Responses API's terminal event). */
  send: ((event: SseEvent, final: boolean) => void) | undefined,
): Promise<StreamEnd> {
  const reader = new StreamReader(endpoint, stripUsage);
  const held: HeldEvent[] = [];
  const parser = new SseParser((event) => {
    const out = reader.read(event);
    if (out === undefined) return;
    if (send !== undefined) send(out.event, reader.finished);
    else held.push(out);
  });
  let aborted = false;
  // Destroying the body aborts the upstream request: a client that leaves stops the generation
  // it would otherwise still be billed for.
  ex.onAbort(() => {
    aborted = true;
    reply.body.destroy();
  });
  let cut = false;
  try {
    for await (const chunk of reply.body) parser.push(chunk as Uint8Array);
  } catch {
    cut = true;
  }
  const end = aborted ? "aborted" : cut || !reader.finished ? "cut" : "complete";
  return { usage: reader.usage, texts: reader.texts, end, events: held };
}
