/**
 * `@igris-security/sdk`: governed MCP connections through the Sentinel gateway.
 *
 * ```ts
 * const igris = new Igris({ apiKey: process.env.IGRIS_API_KEY });
 * const mcp = await igris.connect("github-prod", { user: "alice@acme.com", metadata: { role: "developer" } });
 * await mcp.call("repo.read", { repo: "acme/api" });
 * ```
 */
export { Igris, GovernedConnection, SDK_VERSION } from "./igris.js";
export { SentinelError, UpstreamError, TransportError } from "./errors.js";
export type { SentinelErrorOptions, TransportErrorOptions } from "./errors.js";
export { DEFAULT_BASE_URL } from "./options.js";
export type { IgrisOptions, ConnectOptions, CallOptions, Metadata } from "./options.js";
export { HEADERS, MCP_PATH_PREFIX, mcpPath, isSentinelErrorData } from "./wire.js";
export type { SentinelErrorData } from "./wire.js";
export type { CallToolResult, GetPromptResult, Prompt, ReadResourceResult, Resource, Tool } from "@modelcontextprotocol/sdk/types.js";
