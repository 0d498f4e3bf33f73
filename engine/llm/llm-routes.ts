/**
 * The LLM path's routes: `/llm/<connection>/v1/<endpoint>` (the `v1/` is optional, so a client
 * whose base URL is `/llm/<connection>` works too). Each endpoint has a policy name, the
 * `llm.endpoint` target's value, and the upstream path under the connection's base URL.
 */
import type { LlmProvider } from "../config/types.js";
import { ownEntry } from "../util/own.js";

export const LLM_PATH_PREFIX = "/llm/";

export type EndpointName = "chat.completions" | "completions" | "embeddings" | "responses";

export interface LlmEndpoint {
  /** The policy name (`llm.endpoint` rules match it). */
  readonly name: EndpointName;
  /** Under the connection's base URL. */
  readonly path: string;
  /**
   * The request member that bounds output tokens (per choice where `n` applies); undefined
   * for embeddings, which produce none. Chat has two: see `outputFields`.
   */
  readonly outputFields: readonly string[];
  /** Whether `stream_options.include_usage` exists, so the gateway can ask for usage in a stream. */
  readonly streamUsage: boolean;
}

const ENDPOINTS: Readonly<Record<string, LlmEndpoint>> = {
  "chat/completions": { name: "chat.completions", path: "chat/completions", outputFields: ["max_completion_tokens", "max_tokens"], streamUsage: true },
  completions: { name: "completions", path: "completions", outputFields: ["max_tokens"], streamUsage: true },
  embeddings: { name: "embeddings", path: "embeddings", outputFields: [], streamUsage: false },
  responses: { name: "responses", path: "responses", outputFields: ["max_output_tokens"], streamUsage: false },
};

/**
 * The field a capped request gets when the client set none. OpenAI's chat API takes
 * `max_completion_tokens` (its reasoning models refuse `max_tokens`); compatible servers are
 * only sure to know `max_tokens`.
 */
export function defaultOutputField(endpoint: LlmEndpoint, provider: LlmProvider): string | undefined {
  if (endpoint.name === "chat.completions") return provider === "openai" ? "max_completion_tokens" : "max_tokens";
  return endpoint.outputFields[0];
}

export type LlmRoute =
  | { readonly kind: "call"; readonly connection: string; readonly endpoint: LlmEndpoint }
  | { readonly kind: "models"; readonly connection: string; readonly model: string | undefined }
  | { readonly kind: "unknown"; readonly connection: string; readonly rest: string };

/** Parses the path after `/llm/`; undefined when it names no connection. */
export function parseLlmRoute(path: string): LlmRoute | undefined {
  const tail = path.slice(LLM_PATH_PREFIX.length);
  const slash = tail.indexOf("/");
  let connection: string;
  try {
    connection = decodeURIComponent(slash < 0 ? tail : tail.slice(0, slash));
  } catch {
    return undefined;
  }
  if (connection === "" || connection.includes("/")) return undefined;
  let rest = slash < 0 ? "" : tail.slice(slash + 1);
  if (rest.startsWith("v1/")) rest = rest.slice(3);
  if (rest.endsWith("/")) rest = rest.slice(0, -1);
  const endpoint = ownEntry(ENDPOINTS, rest);
  if (endpoint !== undefined) return { kind: "call", connection, endpoint };
  if (rest === "models") return { kind: "models", connection, model: undefined };
  if (rest.startsWith("models/") && rest.length > 7) {
    try {
      return { kind: "models", connection, model: decodeURIComponent(rest.slice(7)) };
    } catch {
      return { kind: "unknown", connection, rest };
    }
  }
  return { kind: "unknown", connection, rest };
}

export const ENDPOINT_PATHS = Object.keys(ENDPOINTS);
