/**
 * What every stage after caller resolution works with on the LLM path: where to answer, where
 * to record, how to refuse, whose config, and which provider connection.
 */
import type { CallTrace } from "../audit/call-trace.js";
import type { RuntimeTenant } from "../config/compile-config.js";
import type { Refusal } from "../errors.js";
import type { DownstreamExchange } from "../gateway/downstream.js";
import type { Gateway } from "../gateway/gateway.js";
import type { LlmUpstream } from "./llm-upstream.js";

export interface LlmContext {
  readonly gw: Gateway;
  readonly ex: DownstreamExchange;
  readonly trace: CallTrace | undefined;
  /** Answers with the refusal (audited once the tenant is known). */
  readonly fail: (refusal: Refusal) => void;
  readonly tenant: RuntimeTenant;
  readonly upstream: LlmUpstream;
}
