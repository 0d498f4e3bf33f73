/**
 * The audit seam of the LLM path, on the same AuditLog API as the MCP path: the trace is
 * emitted when the answer is ready, and a whole answer is released only once its record is
 * acknowledged (per `audit.durability`). A streamed answer is recorded when the provider's
 * stream ends, with its real usage; its final event (`[DONE]`, or the Responses API's terminal
 * event) and the end of the stream wait for the record, as for MCP streams.
 *
 * An LLM record: `method` is the endpoint (`chat.completions`), `target`/`name` are
 * `llm.model` and the model (or `llm.endpoint` and the endpoint, when an endpoint rule decided),
 * `arguments` is the request body as forwarded (stored per `audit.arguments`), and `tokens` and
 * `cost` are what the call used and cost.
 */
import type { CallTrace } from "../audit/call-trace.js";
import { storedArguments, type AuditOutcome } from "../audit/record.js";
import type { Refusal } from "../errors.js";
import type { Metadata } from "../auth/identity.js";
import { MICROS_PER_DOLLAR } from "../limits/prices.js";
import type { TokenUsage } from "./llm-usage.js";

export function noteCaller(trace: CallTrace, user: string | undefined, metadata: Metadata): void {
  trace.user = user;
  const role = metadata.role;
  trace.role = typeof role === "string" ? role : undefined;
  trace.metadata = metadata;
}

export function noteRefusal(trace: CallTrace, refusal: Refusal): void {
  if (trace.decision === "pass") trace.decision = "refuse";
  // A prompt Content Guard refused holds what it found: never store its values, whatever the mode.
  if (refusal.code === "SENTINEL_CONTENT_BLOCKED") trace.args = storedArguments(trace.args, "redacted");
  trace.reason = refusal.reason;
  if (refusal.ruleId !== undefined) trace.ruleId = refusal.ruleId;
}

export function noteUsage(trace: CallTrace, used: TokenUsage, micros: number): void {
  trace.tokens = { in: used.in, out: used.out };
  trace.costUsd = micros / MICROS_PER_DOLLAR;
}

export const outcome = (status: number, code?: string): AuditOutcome =>
  status < 400 && code === undefined ? { httpStatus: status, status: "ok" } : { code: code ?? `http:${status}`, httpStatus: status, status: "error" };
