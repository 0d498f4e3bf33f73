/**
 * The answer half of the LLM pipeline: forward the call, then account for what it used and
 * inspect what it produced before (or, for a passed-through stream, while) it goes down.
 *
 *  - The provider's own errors (4xx/5xx) pass through with their status and body; the call's
 *    reservation is released, since a failed call is not billed.
 *  - A whole answer: usage is read (or estimated), the limits are settled to it, the cost is
 *    priced, an output over its cap (a provider that ignored the max-tokens field) is
 *    withheld, response inspection redacts or withholds, and the answer is released once its
 *    audit record is acknowledged.
 *  - A stream: see llm-stream.ts; settled and audited when it ends, however it ends.
 *
 * Whatever the provider sends back (error bodies, answers, stream events) has the connection
 * credential's secrets replaced by their mask first, as on the MCP path: a provider or proxy
 * that echoes the key it was given ("invalid key sk-…") must not hand it to the agent.
 */
import type { CallTrace } from "../audit/call-trace.js";
import { refuse, type Refusal } from "../errors.js";
import type { Finding } from "../guard/findings.js";
import type { TokenCounter } from "../guard/tokens.js";
import { isRefusal } from "../mcp/jsonrpc.js";
import type { SseEvent } from "../mcp/sse.js";
import type { CallCredential } from "../upstream/upstream.js";
import { answerGuard, guardAnswer, guardHeld } from "./answer-guard.js";
import { answerText } from "./llm-answer.js";
import { noteUsage, outcome } from "./llm-audit.js";
import { recordAndRelease } from "../gateway/audited-exchange.js";
import type { LlmContext } from "./llm-context.js";
import type { LlmAdmission, LlmInspection } from "./llm-guard.js";
import { isObject, type LlmRequest } from "./llm-request.js";
import type { LlmEndpoint } from "./llm-routes.js";
import { readStream, type StreamEnd } from "./llm-stream.js";
import { header, passHeaders, type LlmReply } from "./llm-upstream.js";
import { NO_USAGE, readUsage, settleLlm, type TokenUsage } from "./llm-usage.js";

export interface AnswerContext extends LlmContext {
  readonly endpoint: LlmEndpoint;
  readonly call: LlmRequest;
  readonly counter: TokenCounter;
  readonly inspection: LlmInspection;
  readonly admission: LlmAdmission;
  readonly lease: CallCredential | undefined;
}

export async function answerCall(ctx: AnswerContext): Promise<void> {
  const { call, endpoint } = ctx;
  // The final chunk of a chat or completion stream carries usage only when asked for; the
  // gateway always asks, and hides that chunk again from a client that did not.
  let stripUsage = false;
  if (call.stream && endpoint.streamUsage) {
    const options = isObject(call.body.stream_options) ? call.body.stream_options : {};
    stripUsage = options.include_usage !== true;
    call.body.stream_options = { ...options, include_usage: true };
  }
  // A client that leaves stops the provider's work on its call, which it would still be billed for.
  const abort = new AbortController();
  ctx.ex.onAbort(() => abort.abort());
  const reply = await ctx.upstream.request("POST", endpoint.path, JSON.stringify(call.body), ctx.lease, abort.signal);
  const scrub = secretScrubber(ctx);
  if (isRefusal(reply)) {
    account(ctx, NO_USAGE);
    return ctx.ex.aborted ? release(ctx, CLIENT_LEFT, () => undefined) : ctx.fail(reply);
  }
  passHeaders(reply, ctx.ex, scrub);
  const type = header(reply.headers, "content-type")?.split(";")[0]?.trim().toLowerCase();
  if (reply.status < 200 || reply.status >= 300) {
    const text = await readText(reply);
    account(ctx, NO_USAGE);
    if (text === undefined) return cutOff(ctx);
    return release(ctx, outcome(reply.status), () => ctx.ex.sendText(reply.status, scrub(text), type ?? "application/json"));
  }
  if (call.stream && type === "text/event-stream") return answerStream(ctx, reply, stripUsage, scrub);
  return answerWhole(ctx, reply, scrub);
}

type Scrub = (text: string) => string;

/** The connection credential's scrubber (all versions the vault holds), or the identity. */
export function secretScrubber(ctx: LlmContext): Scrub {
  const scrubber = ctx.gw.vault?.binding(ctx.tenant.id, ctx.upstream.name)?.credential.scrubber();
  return scrubber === undefined || scrubber.empty ? (text) => text : (text) => scrubber.text(text);
}

/** An SSE event with its data scrubbed (the same object when nothing was found). */
function scrubEvent(event: SseEvent, scrub: Scrub): SseEvent {
  const data = scrub(event.data);
  return data === event.data ? event : { ...event, data };
}

async function answerWhole(ctx: AnswerContext, reply: LlmReply, scrub: Scrub): Promise<void> {
  const text = await readText(reply);
  if (text === undefined) {
    account(ctx, { in: ctx.inspection.tokensIn, out: 0 });
    return cutOff(ctx);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = undefined;
  }
  if (!isObject(answer)) {
    account(ctx, { in: ctx.inspection.tokensIn, out: ctx.counter.count(text) });
    return ctx.fail(refuse("SENTINEL_UPSTREAM_PROTOCOL", `the provider answered ${reply.status} with a body that is not a JSON object`));
  }
  const used = readUsage(answer.usage) ?? { in: ctx.inspection.tokensIn, out: ctx.counter.count(answerText(ctx.endpoint.name, answer)) };
  account(ctx, used);
  const over = overCap(ctx, used);
  if (over !== undefined) return ctx.fail(over);
  let body = text;
  const sg = ctx.tenant.safeguards;
  if (answerGuard(sg) !== undefined) {
    const verdict = guardAnswer(sg!, ctx.endpoint.name, answer);
    if (isRefusal(verdict)) return ctx.fail(verdict);
    noteFindings(ctx.trace, verdict.findings);
    if (verdict.findings.some((f) => f.action === "redact")) body = JSON.stringify(answer);
  }
  // Scrubbed as text: a secret is a run of plain characters, the same in the JSON as in the value.
  body = scrub(body);
  release(ctx, outcome(reply.status), () => ctx.ex.sendText(reply.status, body, "application/json"));
}

/**
 * Events are scrubbed one by one as they go down; a secret split across two events (a model
 * spelling it out token by token) is not recognised, but a provider echoing the key it was
 * sent does so in one piece.
 */
async function answerStream(ctx: AnswerContext, reply: LlmReply, stripUsage: boolean, scrub: Scrub): Promise<void> {
  const sg = ctx.tenant.safeguards;
  if (answerGuard(sg) === undefined) {
    // Events go down as they arrive, except the one that tells the client the answer is complete:
    // it and the end of the stream wait for the call's record, as on the MCP path, so a client
    // never holds a finished answer whose record a crash could still lose.
    const stream = ctx.ex.openStream();
    const tail: SseEvent[] = [];
    const end = await readStream(ctx.endpoint.name, reply, ctx.ex, stripUsage, (event, final) => (final ? tail.push(scrubEvent(event, scrub)) : stream.send(scrubEvent(event, scrub))));
    account(ctx, usageOf(ctx, end));
    return release(ctx, streamOutcome(end), () => {
      for (const event of tail) stream.send(event);
      stream.close();
    });
  }
  // Response inspection: held until complete, so nothing unscanned goes down.
  const end = await readStream(ctx.endpoint.name, reply, ctx.ex, stripUsage, undefined);
  const used = usageOf(ctx, end);
  account(ctx, used);
  if (end.end === "aborted") return release(ctx, streamOutcome(end), () => undefined);
  if (end.end === "cut") return ctx.fail(refuse("SENTINEL_UPSTREAM_UNAVAILABLE", "the provider's stream ended before the answer was complete"));
  const over = overCap(ctx, used);
  if (over !== undefined) return ctx.fail(over);
  const verdict = guardHeld(sg!, ctx.endpoint.name, end.events);
  if (isRefusal(verdict)) return ctx.fail(verdict);
  noteFindings(ctx.trace, verdict.findings);
  const stream = ctx.ex.openStream();
  release(ctx, outcome(200), () => {
    end.events.forEach((held, i) => stream.send(scrubEvent(verdict.changed.has(i) ? { ...held.event, data: JSON.stringify(held.data) } : held.event, scrub)));
    stream.close();
  });
}

/** Nothing was sent: the client closed the connection first (nginx's 499 "client closed request"). */
const CLIENT_LEFT = outcome(499, "client-aborted");

/** A whole body, or undefined when reading it failed (the client left, or the provider cut it). */
async function readText(reply: LlmReply): Promise<string | undefined> {
  try {
    return await reply.body.text();
  } catch {
    return undefined;
  }
}

function cutOff(ctx: AnswerContext): void {
  if (ctx.ex.aborted) release(ctx, CLIENT_LEFT, () => undefined);
  else ctx.fail(refuse("SENTINEL_UPSTREAM_UNAVAILABLE", "the provider's answer was cut off"));
}

/** The provider's usage, or the gateway's counts: the prompt, and the output text seen. */
function usageOf(ctx: AnswerContext, end: StreamEnd): TokenUsage {
  if (end.usage !== undefined) return end.usage;
  let out = 0;
  for (const text of end.texts.values()) out += ctx.counter.count(text);
  return { in: ctx.inspection.tokensIn, out };
}

const streamOutcome = (end: StreamEnd) => outcome(200, end.end === "complete" ? undefined : end.end === "aborted" ? "stream-aborted" : "stream-cut");

/** Settles the limits to what the call used and notes tokens and cost for the audit record. */
function account(ctx: AnswerContext, used: TokenUsage): void {
  const micros = settleLlm(ctx.gw, ctx.tenant, ctx.call.model, ctx.admission, used);
  if (ctx.trace !== undefined) noteUsage(ctx.trace, used === NO_USAGE ? { in: ctx.inspection.tokensIn, out: 0 } : used, micros);
}

/**
 * The output cap was sent as the max-tokens field; a provider that ignored it produced more
 * than the tenant allows, and the answer is withheld like an over-cap MCP result. Its tokens
 * were counted all the same.
 */
function overCap(ctx: AnswerContext, used: TokenUsage): Refusal | undefined {
  const caps = ctx.tenant.safeguards?.caps;
  if (caps === undefined) return undefined;
  if (used.out > (caps.output ?? Infinity)) {
    return refuse("SENTINEL_TOKEN_CAP_EXCEEDED", `the answer is ${used.out.toLocaleString("en-US")} tokens; the output cap is ${caps.output!.toLocaleString("en-US")}`);
  }
  // The prompt side is the gateway's own count, the one the allowance was computed from: a
  // provider counting a few more framing tokens must not turn a capped answer into a refusal.
  const total = ctx.inspection.tokensIn + used.out;
  if (total > (caps.total ?? Infinity)) {
    return refuse("SENTINEL_TOKEN_CAP_EXCEEDED", `the call is ${total.toLocaleString("en-US")} tokens in and out; the total cap is ${caps.total!.toLocaleString("en-US")}`);
  }
  return undefined;
}

function noteFindings(trace: CallTrace | undefined, findings: readonly Finding[]): void {
  if (trace === undefined || findings.length === 0) return;
  trace.findings = [...(trace.findings ?? []), ...findings.map((f) => ({ type: f.id, path: f.path }))];
}

function release(ctx: AnswerContext, result: ReturnType<typeof outcome>, send: () => void): void {
  if (ctx.trace === undefined) return send();
  recordAndRelease(ctx.gw.audit!, ctx.trace, result, send);
}
