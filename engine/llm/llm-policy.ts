/**
 * Policy for an LLM call: two judgements, one per target. `llm.model` rules match the model
 * name, `llm.endpoint` rules the endpoint (`chat.completions`, `completions`, `embeddings`,
 * `responses`), and each target denies by default on its own: a call proceeds only when a rule
 * of each target permits it. The model is judged first, so a call refused on both sides names
 * the model rule.
 *
 * Of two permitting decisions the stronger applies: `redact` (every Content Guard finding in
 * the prompt is redacted) over `alert` over `allow`; that decision's rule is the call's rule.
 */
import type { PolicyAction, PolicyTarget } from "../config/types.js";
import { refuse, type Refusal } from "../errors.js";
import type { CompiledPolicy, Decision, PolicyInput } from "../policy/compile-policy.js";

export interface LlmVerdict {
  readonly refusal: Refusal | undefined;
  /** The decision that decides the call: the refusing one, or the stronger permitting one. */
  readonly decision: Decision;
  readonly target: PolicyTarget;
  readonly name: string;
  readonly action: PolicyAction;
}

const STRENGTH: Readonly<Record<PolicyAction, number>> = { allow: 0, alert: 1, redact: 2, deny: 3, confirm: 3 };

/** `base` is everything but target and name: caller, facts, and the body as `args`. */
export function judgeLlm(policy: CompiledPolicy, base: Omit<PolicyInput, "target" | "name">, model: string, endpoint: string): LlmVerdict {
  const byModel = policy.evaluate({ ...base, target: "llm.model", name: model });
  if (!byModel.permitted) return refused(byModel, "llm.model", model);
  const byEndpoint = policy.evaluate({ ...base, target: "llm.endpoint", name: endpoint });
  if (!byEndpoint.permitted) return refused(byEndpoint, "llm.endpoint", endpoint);
  return STRENGTH[byEndpoint.action] > STRENGTH[byModel.action]
    ? { refusal: undefined, decision: byEndpoint, target: "llm.endpoint", name: endpoint, action: byEndpoint.action }
    : { refusal: undefined, decision: byModel, target: "llm.model", name: model, action: byModel.action };
}

function refused(decision: Decision, target: PolicyTarget, name: string): LlmVerdict {
  return { refusal: refuse("SENTINEL_POLICY_DENIED", decision.reason, { ruleId: decision.ruleId }), decision, target, name, action: decision.action };
}
