/**
 * What Content Guard scans in each kind of MCP message, and where it sits.
 *
 * Client requests: the text a client sends the server to act on (tool and prompt arguments, the
 * URI of a resource read, a completion's value and context). Server requests: `sampling/createMessage`
 * is an LLM call the server makes through the client, so its prompt (the messages' text and the
 * system prompt) is scanned like arguments, and the client's answer like a result. Elicitation
 * answers are what the user typed for the server: they are scanned on their way up.
 */

import type { PartRun } from "../guard/joined-parts.js";
import type { PathSegment } from "../guard/walk.js";

export interface ScanTarget {
  /** How findings name the scanned value: `arguments.user`, `uri`, `params.messages[0]…`. */
  readonly root: string;
  /** Where the value sits in the message (the pool picks it from the JSON; redaction puts a string back). */
  readonly pick: readonly string[];
  /**
   * Leaves redaction may rewrite (paths below `pick`); undefined: all. A finding to redact
   * elsewhere refuses the call: rewriting a name the policy judged (a completion's `ref`)
   * would send the upstream something no rule looked at.
   */
  readonly redactable?: (path: readonly PathSegment[]) => boolean;
}

/** Client requests whose content is scanned, by method. */
export const REQUEST_TARGETS: Readonly<Record<string, ScanTarget>> = {
  "tools/call": { root: "arguments", pick: ["params", "arguments"] },
  "prompts/get": { root: "arguments", pick: ["params", "arguments"] },
  "resources/read": { root: "uri", pick: ["params", "uri"] },
  // The value being completed and the values already given for the other arguments
  // (`context.arguments`) both reach the server: the whole params are scanned, and only those
  // values may be redacted.
  "completion/complete": {
    root: "params",
    pick: ["params"],
    redactable: (path) => (path[0] === "argument" && path[1] === "value") || (path[0] === "context" && path[1] === "arguments"),
  },
};

export function valueAt(root: unknown, path: readonly string[]): unknown {
  let v = root;
  for (const key of path) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/**
 * The text of sampling content (a block or a list of blocks, tool results holding blocks of
 * their own), at the same paths as in the content: `{ text }` for a text block, `null` for an
 * image or audio block, whose base64 is no text to scan. Scanning this projection gives leaf
 * paths that are valid in the original, so redaction applies there directly.
 *
 * Every block kind whose words the model reads is projected: a `tool_use` block's `input` (the
 * model's earlier call, replayed to it), a tool result's `structuredContent`, an embedded
 * resource's `text` and a resource link's names. Leaving one out would let a server put a
 * prompt past Content Guard by wrapping it in that kind of block.
 */
function contentText(content: unknown): unknown {
  if (Array.isArray(content)) return content.map(contentText);
  if (content === null || typeof content !== "object") return null;
  const block = content as Record<string, unknown>;
  switch (block.type) {
    case "text":
      return typeof block.text === "string" ? { text: block.text } : null;
    case "tool_use":
      return { input: block.input };
    case "tool_result":
      return { content: contentText(block.content), structuredContent: block.structuredContent };
    case "resource": {
      const resource = block.resource as { text?: unknown } | null | undefined;
      return typeof resource?.text === "string" ? { resource: { text: resource.text } } : null;
    }
    case "resource_link":
      return { uri: block.uri, name: block.name, title: block.title, description: block.description };
    default:
      return null;
  }
}

/** The prompt of a `sampling/createMessage` request: its messages' text and its system prompt. */
export function samplingPrompt(params: Record<string, unknown> | undefined): { messages: unknown[]; systemPrompt?: string } {
  const messages = Array.isArray(params?.messages) ? params.messages : [];
  const prompt: { messages: unknown[]; systemPrompt?: string } = {
    messages: messages.map((m) => ({ content: contentText((m as { content?: unknown } | null)?.content) })),
  };
  if (typeof params?.systemPrompt === "string") prompt.systemPrompt = params.systemPrompt;
  return prompt;
}

/**
 * The text blocks of each sampling message that has two or more: the model reads them as one
 * text, so they are also scanned joined (guard/joined-parts.ts). Paths are into params.
 */
export function samplingRuns(params: Record<string, unknown> | undefined): PartRun[] {
  const messages = Array.isArray(params?.messages) ? params.messages : [];
  const runs: PartRun[] = [];
  messages.forEach((m, i) => {
    const content = (m as { content?: unknown } | null)?.content;
    if (!Array.isArray(content)) return;
    const run = content.flatMap((block: unknown, k) => {
      const b = block as { type?: unknown; text?: unknown } | null;
      return b?.type === "text" && typeof b.text === "string" ? [{ path: ["messages", i, "content", k, "text"], text: b.text }] : [];
    });
    if (run.length >= 2) runs.push(run);
  });
  return runs;
}

/** The text of a client's sampling answer (CreateMessageResult). */
export const samplingAnswer = (result: unknown): { content: unknown } => ({ content: contentText((result as { content?: unknown } | null)?.content) });

/** What the user typed into an elicitation form (ElicitResult.content): flat fields, scanned whole. */
export const elicitationAnswer = (result: unknown): { content: unknown } => ({ content: (result as { content?: unknown } | null)?.content });
