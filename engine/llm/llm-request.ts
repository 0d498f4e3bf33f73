/**
 * What the gateway reads from an OpenAI-style request body: the model, whether it streams,
 * how many choices it asks for, and the prompt text a model will read, each leaf with its
 * path in the body so that redaction can rewrite it in place.
 *
 * Prompt text per endpoint:
 *  - chat.completions: every message's `content` (a string, or the `text` or `refusal` of each
 *    content part, whatever its type claims), its `refusal` and `name`, tool-call `arguments`
 *    (custom tool calls' `input`), legacy `function_call.arguments`;
 *  - completions: `prompt` and `suffix`;
 *  - embeddings: `input`;
 *  - responses: `instructions` (a string; anything else is refused, as it could carry text
 *    unscanned), and per `input` item its `content`, `arguments`, `input` (custom tool calls),
 *    `output` and reasoning `summary`.
 * Every one of these is text the provider puts in front of the model: a field left out here is
 * a way to send the provider what Content Guard never saw. So are tool definitions (`tools`,
 * and chat's legacy `functions`), the structured-output schema (`response_format`, Responses'
 * `text`) and a predicted output (`prediction`): every string and number in them is scanned
 * (`extraLeaves`), and so are `tool_choice`, `stop`, `web_search_options` and, on Responses, a
 * stored prompt's `prompt.variables`. The fields that identify the end user to the provider
 * (`user`, `safety_identifier`, `metadata`, `prompt_cache_key`) are scanned as well: they leave
 * the gateway too. Of these only tool definitions are counted, as their JSON.
 * `prompt` and `input` may be token arrays (`[1, 2, 3]` or a list of them): those are counted as
 * their length and, when Content Guard is on, decoded and scanned (token-arrays.ts).
 */
import { refuse, type Refusal } from "../errors.js";
import { nearestKey, pathOf, walkStrings, type PathSegment } from "../guard/walk.js";
import type { LlmEndpoint } from "./llm-routes.js";

export interface PromptLeaf {
  readonly path: readonly PathSegment[];
  readonly text: string;
  /** The JSON key the text sits under, context for some validators (an AWS secret's key name). */
  readonly key?: string;
}

export interface TokenArray {
  readonly path: readonly PathSegment[];
  readonly tokens: readonly number[];
}

export interface LlmRequest {
  /** The parsed body; the gateway rewrites it (redaction, output caps) and forwards its serialisation. */
  readonly body: Record<string, unknown>;
  readonly model: string;
  readonly stream: boolean;
  /** Choices generated per call (`n`, or `best_of` for completions): the output cap is per choice. */
  readonly choices: number;
  readonly leaves: readonly PromptLeaf[];
  /**
   * Leaves the model reads as one text, by index into `leaves`: the parts of one message's
   * content. A value cut across parts (`"123-45-"`, `"6789"`) is only whole when they are joined.
   */
  readonly joined: readonly (readonly number[])[];
  /** Every string and number the provider receives outside the prompt text (SCANNED_FIELDS): scanned, not counted. */
  readonly extraLeaves: readonly PromptLeaf[];
  /** The tool definitions' JSON, as they are counted ("" without any). */
  readonly toolsJson: string;
  readonly tokenArrays: readonly TokenArray[];
  /** Messages or input items, each of which costs a few tokens of framing. */
  readonly messages: number;
}

/**
 * Names an upstream resolves must be the names policy judged. Policy folds case, white space
 * and look-alike letters (engine/policy/canonical.ts) so that `GPT-5` cannot pass a rule for
 * `gpt-5`; invisible characters, spaces and non-ASCII letters are refused outright, because an
 * upstream that strips or folds them differently could serve a model no rule was written for.
 */
const MODEL_NAME = /^[\x21-\x7e]{1,256}$/;
export const MODEL_NAME_RULE = '"model" must be 1 to 256 printable ASCII characters without spaces';
export const isModelName = (name: string): boolean => MODEL_NAME.test(name);

export function readLlmRequest(body: Record<string, unknown>, endpoint: LlmEndpoint): LlmRequest | Refusal {
  const model = body.model;
  if (typeof model !== "string") return refuse("SENTINEL_INVALID_REQUEST", 'the body needs a string "model"');
  if (!isModelName(model)) return refuse("SENTINEL_INVALID_REQUEST", MODEL_NAME_RULE);
  if (body.stream !== undefined && typeof body.stream !== "boolean") return refuse("SENTINEL_INVALID_REQUEST", '"stream" must be a boolean');
  const stream = body.stream === true;
  if (stream && endpoint.name === "embeddings") return refuse("SENTINEL_INVALID_REQUEST", "embeddings do not stream");
  for (const field of [...endpoint.outputFields, "n", "best_of"]) {
    const v = body[field];
    if (v !== undefined && v !== null && !(Number.isSafeInteger(v) && (v as number) >= 0)) return refuse("SENTINEL_INVALID_REQUEST", `"${field}" must be a non-negative integer`);
  }
  const n = typeof body.n === "number" ? body.n : 1;
  const bestOf = endpoint.name === "completions" && typeof body.best_of === "number" ? body.best_of : 1;
  const choices = Math.max(1, n, bestOf);

  const leaves: PromptLeaf[] = [];
  const joined: number[][] = [];
  const tokenArrays: TokenArray[] = [];
  let messages = 0;
  switch (endpoint.name) {
    case "chat.completions": {
      if (!Array.isArray(body.messages)) return refuse("SENTINEL_INVALID_REQUEST", 'the body needs a "messages" array');
      body.messages.forEach((m, i) => {
        if (!isObject(m)) return;
        messages++;
        content(m.content, ["messages", i, "content"], leaves, joined);
        // An assistant message's refusal and a participant name are rendered into the prompt too.
        if (typeof m.refusal === "string") leaves.push({ path: ["messages", i, "refusal"], text: m.refusal });
        if (typeof m.name === "string") leaves.push({ path: ["messages", i, "name"], text: m.name });
        if (Array.isArray(m.tool_calls)) {
          m.tool_calls.forEach((call, j) => {
            const fn = isObject(call) ? call.function : undefined;
            if (isObject(fn) && typeof fn.arguments === "string") leaves.push({ path: ["messages", i, "tool_calls", j, "function", "arguments"], text: fn.arguments });
            const custom = isObject(call) ? call.custom : undefined;
            if (isObject(custom) && typeof custom.input === "string") leaves.push({ path: ["messages", i, "tool_calls", j, "custom", "input"], text: custom.input });
          });
        }
        if (isObject(m.function_call) && typeof m.function_call.arguments === "string") {
          leaves.push({ path: ["messages", i, "function_call", "arguments"], text: m.function_call.arguments });
        }
      });
      break;
    }
    case "completions": {
      if (body.prompt === undefined) return refuse("SENTINEL_INVALID_REQUEST", 'the body needs a "prompt"');
      const problem = textsOrTokens(body.prompt, ["prompt"], leaves, tokenArrays);
      if (problem !== undefined) return problem;
      if (typeof body.suffix === "string") leaves.push({ path: ["suffix"], text: body.suffix });
      break;
    }
    case "embeddings": {
      if (body.input === undefined) return refuse("SENTINEL_INVALID_REQUEST", 'the body needs an "input"');
      const problem = textsOrTokens(body.input, ["input"], leaves, tokenArrays);
      if (problem !== undefined) return problem;
      break;
    }
    case "responses": {
      if (typeof body.instructions === "string") leaves.push({ path: ["instructions"], text: body.instructions });
      else if (body.instructions !== undefined && body.instructions !== null) return refuse("SENTINEL_INVALID_REQUEST", '"instructions" must be a string');
      if (typeof body.input === "string") {
        leaves.push({ path: ["input"], text: body.input });
        messages = 1;
      } else if (Array.isArray(body.input)) {
        body.input.forEach((item, i) => {
          if (!isObject(item)) return;
          messages++;
          content(item.content, ["input", i, "content"], leaves, joined);
          if (typeof item.arguments === "string") leaves.push({ path: ["input", i, "arguments"], text: item.arguments });
          if (typeof item.input === "string") leaves.push({ path: ["input", i, "input"], text: item.input });
          content(item.output, ["input", i, "output"], leaves, joined);
          content(item.summary, ["input", i, "summary"], leaves, joined);
        });
      } else if (body.input !== undefined) return refuse("SENTINEL_INVALID_REQUEST", '"input" must be a string or an array of items');
      break;
    }
  }
  const extraLeaves: PromptLeaf[] = [];
  for (const field of endpoint.name === "responses" ? [...SCANNED_FIELDS, ...RESPONSES_FIELDS] : SCANNED_FIELDS) {
    if (!Object.hasOwn(body, field)) continue;
    walkStrings(body[field], (text, node) => extraLeaves.push({ path: [field, ...pathOf(node)], text, key: nearestKey(node) ?? field }), true);
  }
  const definitions = TOOL_FIELDS.filter((f) => body[f] !== undefined && body[f] !== null);
  const toolsJson = definitions.map((f) => JSON.stringify(body[f])).join("");
  return { body, model, stream, choices, leaves, joined, extraLeaves, toolsJson, tokenArrays, messages };
}

/** Where tool definitions sit, on every endpoint that takes them. */
const TOOL_FIELDS = ["tools", "functions"] as const;
/** Top-level fields outside the prompt text whose values reach the provider, on any endpoint. */
const SCANNED_FIELDS = [...TOOL_FIELDS, "tool_choice", "response_format", "text", "prediction", "stop", "web_search_options", "user", "safety_identifier", "metadata", "prompt_cache_key"];
/** Responses only: a stored prompt's `variables` are put into the prompt the model reads (elsewhere `prompt` is the prompt text itself). */
const RESPONSES_FIELDS = ["prompt"];

/**
 * A message content: a string, one part, or a list of parts; every part's string `text` or
 * `refusal` is prompt text. The parts of one list reach the model as one text, so when a list
 * gives two or more leaves their indices are noted in `joined`.
 */
function content(value: unknown, path: PathSegment[], into: PromptLeaf[], joined: number[][]): void {
  if (typeof value === "string") into.push({ path, text: value });
  else if (Array.isArray(value)) {
    const first = into.length;
    value.forEach((part, k) => onePart(part, [...path, k], into));
    if (into.length - first >= 2) joined.push(Array.from({ length: into.length - first }, (_, j) => first + j));
  } else onePart(value, path, into);
}

function onePart(part: unknown, path: PathSegment[], into: PromptLeaf[]): void {
  if (!isObject(part)) return;
  if (typeof part.text === "string") into.push({ path: [...path, "text"], text: part.text });
  // `{ type: "refusal", refusal }` parts (assistant history) carry their text under another key.
  if (typeof part.refusal === "string") into.push({ path: [...path, "refusal"], text: part.refusal });
}

/** `prompt` / `input`: a string, a list of strings, a token array, or a list of token arrays. */
function textsOrTokens(value: unknown, path: PathSegment[], texts: PromptLeaf[], arrays: TokenArray[]): Refusal | undefined {
  if (typeof value === "string") {
    texts.push({ path, text: value });
    return undefined;
  }
  if (!Array.isArray(value)) return refuse("SENTINEL_INVALID_REQUEST", `"${path[0]}" must be a string, a list of strings, or token arrays`);
  if (value.length > 0 && value.every(isToken)) {
    arrays.push({ path, tokens: value as number[] });
    return undefined;
  }
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    if (typeof v === "string") texts.push({ path: [...path, i], text: v });
    else if (Array.isArray(v) && v.every(isToken)) arrays.push({ path: [...path, i], tokens: v as number[] });
    else return refuse("SENTINEL_INVALID_REQUEST", `"${path[0]}[${i}]" must be a string or a token array`);
  }
  return undefined;
}

const isToken = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
