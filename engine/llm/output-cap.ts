/**
 * The output cap on the wire. Token Guard cannot count an answer before it exists, so for LLM
 * calls the cap is handed to the provider as the request's max-tokens field, which the
 * provider enforces while generating: a request asking for more (or for no limit) is lowered
 * to the cap. A total cap leaves the output whatever the prompt did not use. `n` choices share
 * the allowance, since the field bounds each choice.
 */
import type { LlmProvider, TokenCapsConfig } from "../config/types.js";
import { refuse, type Refusal } from "../errors.js";
import type { LlmRequest } from "./llm-request.js";
import { defaultOutputField, type LlmEndpoint } from "./llm-routes.js";

/**
 * Writes the cap into `req.body` where needed. Returns the output tokens the call may produce
 * in all (per-choice bound × choices), or undefined when neither the client nor a cap bounds it.
 */
export function applyOutputCap(req: LlmRequest, endpoint: LlmEndpoint, provider: LlmProvider, caps: TokenCapsConfig | undefined, tokensIn: number): number | undefined | Refusal {
  if (endpoint.outputFields.length === 0) return 0;
  const body = req.body;
  const capped = Math.min(caps?.output ?? Infinity, (caps?.total ?? Infinity) - tokensIn);
  const perChoice = Math.floor(capped / req.choices);
  if (perChoice < 1) {
    const why = req.choices > 1 ? `${req.choices} choices` : "any output";
    return refuse("SENTINEL_TOKEN_CAP_EXCEEDED", `the prompt is ${tokensIn.toLocaleString("en-US")} tokens; the caps leave no room for ${why}`);
  }
  let requested = Infinity;
  for (const field of endpoint.outputFields) {
    const v = body[field];
    if (typeof v === "number") requested = Math.min(requested, v);
  }
  if (perChoice < Infinity) {
    let set = false;
    for (const field of endpoint.outputFields) {
      const v = body[field];
      if (typeof v === "number") {
        set = true;
        if (v > perChoice) body[field] = perChoice;
      } else if (v === null) delete body[field];
    }
    // An absent (or null) field means "as much as the model allows": the cap takes its place.
    if (!set) body[defaultOutputField(endpoint, provider)!] = perChoice;
  }
  const bound = Math.min(requested, perChoice);
  return bound === Infinity ? undefined : bound * req.choices;
}
