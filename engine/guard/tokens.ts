/**
 * Token Guard counting. OpenAI-family models are counted with their real BPE encoding
 * (gpt-tokenizer, pure JS, encodings shipped in the package: nothing is downloaded at run time);
 * other models get a documented estimate. MCP traffic has no model: tool arguments and results
 * are counted as the compact JSON text an agent's model reads and writes, with o200k_base, the
 * encoding of current OpenAI models.
 *
 * Encodings load on first use (about 140 ms and 70 MB for o200k_base), so a gateway that counts
 * no tokens never pays for them.
 */
import { createRequire } from "node:module";

const ENCODINGS = ["o200k_base", "o200k_harmony", "cl100k_base", "p50k_base", "p50k_edit", "r50k_base"] as const;
export type EncodingName = (typeof ENCODINGS)[number];

export interface TokenCounter {
  /** The encoding, or "estimate". */
  readonly name: EncodingName | "estimate";
  count(text: string): number;
}

interface Encoding {
  countTokens(text: string): number;
}

const require = createRequire(import.meta.url);
const loaded = new Map<EncodingName, TokenCounter>();

export function encodingCounter(name: EncodingName): TokenCounter {
  let counter = loaded.get(name);
  if (counter === undefined) {
    const encoding = require(`gpt-tokenizer/cjs/encoding/${name}`) as Encoding;
    counter = { name, count: (text) => encoding.countTokens(text) };
    loaded.set(name, counter);
  }
  return counter;
}

/**
 * The estimate for models without a tokenizer here: four ASCII characters per token (the usual
 * average for English and code), and one token for every other character (CJK scripts come
 * close to that on most tokenizers; accented Latin text is over-counted, never under-counted).
 */
export const ESTIMATE: TokenCounter = {
  name: "estimate",
  count(text) {
    let ascii = 0;
    let other = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) ascii++;
      else if (c < 0xdc00 || c > 0xdfff) other++; // a surrogate pair counts once
    }
    return Math.ceil(ascii / 4) + other;
  },
};

const OPENAI = /^(?:gpt-|chatgpt-|o\d|text-embedding-|ft:gpt-|davinci|babbage|codex-)/;

/** The counter for a model name; MCP traffic (no model) uses o200k_base. */
export function counterForModel(model: string | undefined): TokenCounter {
  if (model === undefined) return encodingCounter("o200k_base");
  const lower = model.toLowerCase();
  const { modelToEncodingMap } = require("gpt-tokenizer/cjs/mapping") as { modelToEncodingMap: Record<string, string> };
  const named = ENCODINGS.find((e) => e === modelToEncodingMap[lower]);
  if (named !== undefined) return encodingCounter(named);
  // OpenAI models newer than the package's table use the current encoding.
  return OPENAI.test(lower) ? encodingCounter("o200k_base") : ESTIMATE;
}

/** Tokens of a JSON value as its compact JSON text; absent values count nothing. */
export function countJsonTokens(value: unknown, counter: TokenCounter): number {
  if (value === undefined) return 0;
  return counter.count(typeof value === "string" ? value : JSON.stringify(value));
}
