/**
 * What an LLM call used, and settling the limits to it. The provider's `usage` is the truth
 * (it is what the provider bills); when it is missing (a compatible server that sends none, a
 * stream cut short) the gateway falls back to its own counts: the prompt as Token Guard
 * counted it and the output text seen, counted with the model's tokenizer.
 *
 * The limits reserved the prompt plus the whole output allowance; settling refunds what the
 * call did not use from that same charge (or records what it used beyond it), so the window
 * holds exactly the call's real usage. A call the provider failed costs nothing.
 */
import type { RuntimeTenant } from "../config/compile-config.js";
import type { Gateway } from "../gateway/gateway.js";
import type { LlmAdmission } from "./llm-guard.js";
import { isObject } from "./llm-request.js";

export interface TokenUsage {
  readonly in: number;
  readonly out: number;
}

/** `usage` of a chat, completion or embedding answer, a Responses answer, or a stream's usage chunk. */
export function readUsage(usage: unknown): TokenUsage | undefined {
  if (!isObject(usage)) return undefined;
  const tokensIn = usage.prompt_tokens ?? usage.input_tokens;
  const tokensOut = usage.completion_tokens ?? usage.output_tokens ?? 0;
  if (!isCount(tokensIn) || !isCount(tokensOut)) return undefined;
  return { in: tokensIn, out: tokensOut };
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Settles the call's reservation to `used` and returns its cost in micro-dollars. Settlement
 * with the in-process store is synchronous; a shared store's promise is not waited for (the
 * answer does not depend on it) but its failure is reported rather than lost.
 */
export function settleLlm(gw: Gateway, tenant: RuntimeTenant, model: string, admission: LlmAdmission | undefined, used: TokenUsage): number {
  const prices = tenant.safeguards?.prices;
  const micros = prices?.modelCost(model, used.in, used.out) ?? 0;
  const limits = tenant.safeguards?.limits;
  if (admission?.limits !== undefined && limits !== undefined) {
    limits.settleTo(gw.counters, admission.limits, admission.reserved, { tokensIn: used.in + used.out, micros }).catch((err: Error) => {
      process.stderr.write(`sentinel: settling limits for tenant ${tenant.id} failed: ${err.message}\n`);
    });
  }
  return micros;
}

export const NO_USAGE: TokenUsage = { in: 0, out: 0 };
