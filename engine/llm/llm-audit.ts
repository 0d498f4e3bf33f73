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
import type { AuditOutcome } from "../audit/record.js";
import { MICROS_PER_DOLLAR } from "../limits/prices.js";
import type { TokenUsage } from "./llm-usage.js";

export function noteUsage(trace: CallTrace, used: TokenUsage, micros: number): void {
  trace.tokens = { in: used.in, out: used.out };
  trace.costUsd = micros / MICROS_PER_DOLLAR;
}

export const outcome = (status: number, code?: string): AuditOutcome =>
  status < 400 && code === undefined ? { httpStatus: status, status: "ok" } : { code: code ?? `http:${status}`, httpStatus: status, status: "error" };
