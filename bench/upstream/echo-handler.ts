/**
 * The bench upstream's MCP behaviour, shared by its two transports: Streamable HTTP
 * (echo-server.ts, for direct calls, the bare proxy and Sentinel) and stdio (echo-stdio.ts, for
 * the peer proxies, which can only front stdio servers, and for Sentinel proxying that same
 * stdio server). Both give the same answers byte for byte, so what the transports add is the
 * only difference between them.
 *
 * It implements just what the bench needs — initialize, ping, tools/list, and tools/call for
 * one `echo` tool that returns its arguments as text — and does as little as possible, so the
 * upstream is never the bottleneck.
 */

export const ECHO_TOOL_NAME = "echo";
export const LATEST_VERSION = "2025-11-25";
const VERSIONS = new Set([LATEST_VERSION, "2025-06-18", "2025-03-26"]);
const ECHO_TOOL = {
  name: ECHO_TOOL_NAME,
  description: "Returns its arguments as text.",
  inputSchema: { type: "object", additionalProperties: true },
};

export type Id = string | number;

export interface Message {
  jsonrpc?: unknown;
  id?: Id | null;
  method?: unknown;
  params?: Record<string, unknown>;
}

/** What a request is answered with: a JSON-RPC result, or an error (code, message). */
export type Answer = { readonly result: unknown } | { readonly error: { readonly code: number; readonly message: string } };

/** Parses one message body; undefined when it is not one JSON-RPC 2.0 object. */
export function parseEchoMessage(text: string): Message | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (message === null || typeof message !== "object" || Array.isArray(message) || (message as Message).jsonrpc !== "2.0") return undefined;
  return message as Message;
}

/** True for a request (has an id and a method); notifications and responses get no answer. */
export const isEchoRequest = (m: Message): m is Message & { id: Id; method: string } =>
  m.id !== undefined && m.id !== null && typeof m.method === "string";

/** The answer to one request. Session handling is the transport's business. */
export function answerRequest(method: string, params: Record<string, unknown> | undefined): Answer {
  switch (method) {
    case "initialize": {
      const asked = params?.protocolVersion;
      return {
        result: {
          protocolVersion: typeof asked === "string" && VERSIONS.has(asked) ? asked : LATEST_VERSION,
          capabilities: { tools: { listChanged: false } },
          serverInfo: { name: "sentinel-bench-echo", version: "1.0.0" },
        },
      };
    }
    case "ping":
      return { result: {} };
    case "tools/list":
      return { result: { tools: [ECHO_TOOL] } };
    case "tools/call":
      if (params?.name !== ECHO_TOOL_NAME) return { result: { content: [{ type: "text", text: "unknown tool" }], isError: true } };
      return { result: { content: [{ type: "text", text: JSON.stringify(params.arguments ?? {}) }] } };
    default:
      return { error: { code: -32601, message: `method ${method} not found` } };
  }
}

/** The JSON-RPC text of an answer. */
export const encodeAnswer = (id: Id | null, answer: Answer): string =>
  "result" in answer ? JSON.stringify({ jsonrpc: "2.0", id, result: answer.result }) : JSON.stringify({ jsonrpc: "2.0", id, error: answer.error });
