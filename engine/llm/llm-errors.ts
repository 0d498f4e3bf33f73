/**
 * The gateway's own refusals on the LLM path, shaped like the OpenAI API's errors so that
 * OpenAI clients surface them as they would a provider's: `{ error: { message, type, code,
 * param } }` with the registry code in `code` and the registry's HTTP status. The `sentinel`
 * member carries the same data the MCP path puts in a JSON-RPC error's `data`.
 */
import type { SentinelErrorData } from "../../sdk/ts/src/wire.js";
import { ERRORS, type Refusal } from "../errors.js";

export interface LlmErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly code: string;
    readonly param: null;
    readonly sentinel: SentinelErrorData;
  };
}

/** OpenAI's error `type` for a status, so clients map it to the error class they expect. */
function errorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

export function llmErrorBody(refusal: Refusal, traceId?: string): LlmErrorBody {
  const sentinel: { -readonly [K in keyof SentinelErrorData]: SentinelErrorData[K] } = { code: refusal.code, reason: refusal.reason };
  if (refusal.ruleId !== undefined) sentinel.ruleId = refusal.ruleId;
  if (refusal.retryAfterMs !== undefined) sentinel.retryAfterMs = refusal.retryAfterMs;
  if (traceId !== undefined) sentinel.traceId = traceId;
  return {
    error: { message: `${refusal.code}: ${refusal.reason}`, type: errorType(ERRORS[refusal.code].http), code: refusal.code, param: null, sentinel },
  };
}
