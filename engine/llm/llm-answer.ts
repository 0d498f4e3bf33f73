/**
 * The model's output in an answer, for response inspection and for counting output tokens
 * when the provider reports no usage.
 *
 * A whole answer: chat and completions carry it in `choices`, the Responses API in `output`;
 * every string leaf under those is model output (message content, tool-call arguments,
 * refusals). A streamed answer carries it in deltas, one piece per event, which only make
 * sense joined: `deltasOf` names each piece with the key of the text it belongs to.
 */
import type { LeafMatches, Scanner } from "../guard/scan.js";
import { walkStrings } from "../guard/walk.js";
import { isObject } from "./llm-request.js";
import type { EndpointName } from "./llm-routes.js";

/** The member of a whole answer that holds the model's output. */
export function outputRoot(endpoint: EndpointName): "choices" | "output" | undefined {
  if (endpoint === "chat.completions" || endpoint === "completions") return "choices";
  if (endpoint === "responses") return "output";
  return undefined;
}

/** Model output leaves of a whole answer, matched; paths are into the answer. */
export function scanAnswer(scanner: Scanner, endpoint: EndpointName, answer: Record<string, unknown>): LeafMatches[] {
  const root = outputRoot(endpoint);
  if (root === undefined || answer[root] === undefined) return [];
  // Numbers in an answer are indexes, log-probabilities and usage: the provider's, not the model's text.
  return scanner.scanValue(answer[root], false).map((leaf) => ({ path: [root, ...leaf.path], matches: leaf.matches }));
}

/** Output text of a whole answer, for counting when usage is missing. */
export function answerText(endpoint: EndpointName, answer: Record<string, unknown>): string {
  const root = outputRoot(endpoint);
  let text = "";
  if (root !== undefined) walkStrings(answer[root], (s, node) => (text += typeof node?.segment === "string" && NOT_TEXT.has(node.segment) ? "" : s));
  return text;
}

/** Members of output items that label the text rather than being it. */
const NOT_TEXT = new Set(["id", "type", "role", "status", "finish_reason", "call_id", "name", "object"]);

/** One piece of streamed output: `holder[field]` is the text, part of the text named `key`. */
export interface Delta {
  readonly key: string;
  readonly holder: Record<string, unknown>;
  readonly field: string;
}

/** The output pieces in one streamed event's data. */
export function deltasOf(endpoint: EndpointName, data: Record<string, unknown>): Delta[] {
  const out: Delta[] = [];
  if (endpoint === "responses") {
    const type = data.type;
    if ((type === "response.output_text.delta" || type === "response.refusal.delta" || type === "response.function_call_arguments.delta") && typeof data.delta === "string") {
      out.push({ key: `${String(type)}:${String(data.item_id)}:${String(data.content_index ?? 0)}`, holder: data, field: "delta" });
    }
    return out;
  }
  if (!Array.isArray(data.choices)) return out;
  for (const choice of data.choices) {
    if (!isObject(choice)) continue;
    const at = String(choice.index ?? 0);
    if (endpoint === "completions") {
      if (typeof choice.text === "string") out.push({ key: at, holder: choice, field: "text" });
      continue;
    }
    const delta = choice.delta;
    if (!isObject(delta)) continue;
    if (typeof delta.content === "string") out.push({ key: at, holder: delta, field: "content" });
    if (typeof delta.refusal === "string") out.push({ key: `${at}:refusal`, holder: delta, field: "refusal" });
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls) {
        const fn = isObject(call) ? call.function : undefined;
        if (isObject(fn) && typeof fn.arguments === "string") out.push({ key: `${at}:tool:${String((call as Record<string, unknown>).index ?? 0)}`, holder: fn, field: "arguments" });
      }
    }
  }
  return out;
}
