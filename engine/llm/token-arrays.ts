/**
 * Token-array prompts (`"input": [9906, 11, 1917]`). A model reads them as text, so Content
 * Guard must too: they are decoded with the model's encoding and scanned like any prompt.
 * They cannot be redacted in place (a placeholder has no token ids the client chose), so a
 * finding that would redact or deny refuses the call; and a model whose tokenizer the gateway
 * does not have cannot have its token arrays read at all, so with a guard on they are refused.
 */
import { createRequire } from "node:module";
import { refuse, type Refusal } from "../errors.js";
import type { TokenCounter } from "../guard/tokens.js";
import type { PromptLeaf, TokenArray } from "./llm-request.js";

const require = createRequire(import.meta.url);

interface Decoder {
  decode(tokens: readonly number[]): string;
}

/** The decoded text of each token array, as prompt leaves at the array's path. */
export function decodeTokenArrays(arrays: readonly TokenArray[], counter: TokenCounter): PromptLeaf[] | Refusal {
  if (arrays.length === 0) return [];
  if (counter.name === "estimate") {
    return refuse("SENTINEL_CONTENT_BLOCKED", "token-array input cannot be inspected for this model (no tokenizer for it); send text");
  }
  const encoding = require(`gpt-tokenizer/cjs/encoding/${counter.name}`) as Decoder;
  const out: PromptLeaf[] = [];
  for (const a of arrays) {
    try {
      out.push({ path: a.path, text: encoding.decode(a.tokens) });
    } catch {
      return refuse("SENTINEL_INVALID_REQUEST", `a token array holds ids that ${counter.name} does not have`);
    }
  }
  return out;
}
