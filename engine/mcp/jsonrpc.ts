/**
 * JSON-RPC 2.0 messages as MCP uses them: one message per HTTP body (batches were removed from
 * MCP in 2025-06-18 and are refused), ids are strings or integers (never null), and `params`,
 * when present, is an object.
 */
import { refuse, type Refusal } from "../errors.js";

export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: "2.0";
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcNotification {
  jsonrpc: "2.0";
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcResponse {
  jsonrpc: "2.0";
  id: JsonRpcId;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

export const isRequest = (m: JsonRpcMessage): m is JsonRpcRequest => "method" in m && "id" in m;
export const isNotification = (m: JsonRpcMessage): m is JsonRpcNotification => "method" in m && !("id" in m);
export const isResponse = (m: JsonRpcMessage): m is JsonRpcResponse => !("method" in m);

export interface ParsedMessage {
  readonly message: JsonRpcMessage;
}

/**
 * Parses one message. The caller forwards the re-serialised object, never the original bytes:
 * with duplicate keys (`{"name":"a","name":"b"}`) parsers disagree on which wins, and the
 * upstream must see exactly the message that policy judged.
 */
export function parseMessage(body: string): JsonRpcMessage | Refusal {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    return refuse("SENTINEL_PARSE_ERROR", `body is not valid JSON: ${(err as Error).message}`);
  }
  return validateMessage(value);
}

export function validateMessage(value: unknown): JsonRpcMessage | Refusal {
  if (Array.isArray(value)) {
    return refuse("SENTINEL_INVALID_REQUEST", "JSON-RPC batches are not supported by MCP since 2025-06-18; send one message per request");
  }
  if (value === null || typeof value !== "object") {
    return refuse("SENTINEL_INVALID_REQUEST", "a JSON-RPC message must be a JSON object");
  }
  const m = value as Record<string, unknown>;
  if (m.jsonrpc !== "2.0") return refuse("SENTINEL_INVALID_REQUEST", 'member "jsonrpc" must be "2.0"');
  if ("id" in m && !validId(m.id)) {
    return refuse("SENTINEL_INVALID_REQUEST", 'member "id" must be a string or an integer (MCP forbids null)');
  }
  if ("method" in m) {
    if (typeof m.method !== "string" || m.method.length === 0) {
      return refuse("SENTINEL_INVALID_REQUEST", 'member "method" must be a non-empty string');
    }
    if ("params" in m && (m.params === null || typeof m.params !== "object" || Array.isArray(m.params))) {
      return refuse("SENTINEL_INVALID_PARAMS", `"params" of "${m.method}" must be an object`);
    }
    return m as unknown as JsonRpcMessage;
  }
  if (!("id" in m)) return refuse("SENTINEL_INVALID_REQUEST", 'a message needs "method" (request, notification) or "id" (response)');
  const hasResult = "result" in m;
  const hasError = "error" in m;
  if (hasResult === hasError) return refuse("SENTINEL_INVALID_REQUEST", 'a response needs exactly one of "result" and "error"');
  if (hasError) {
    const e = m.error as Record<string, unknown> | null;
    if (e === null || typeof e !== "object" || !Number.isInteger(e.code) || typeof e.message !== "string") {
      return refuse("SENTINEL_INVALID_REQUEST", 'a response "error" needs an integer "code" and a string "message"');
    }
  }
  return m as unknown as JsonRpcMessage;
}

const validId = (id: unknown): id is JsonRpcId => typeof id === "string" || (typeof id === "number" && Number.isSafeInteger(id));

export const isRefusal = (v: unknown): v is Refusal =>
  typeof v === "object" && v !== null && typeof (v as Refusal).code === "string" && (v as Refusal).code.startsWith("SENTINEL_") && !("jsonrpc" in v);
