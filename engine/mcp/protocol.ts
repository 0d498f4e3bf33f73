/** MCP protocol revisions the gateway serves, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26"] as const;

export const LATEST_PROTOCOL_VERSION = SUPPORTED_PROTOCOL_VERSIONS[0];

/** Assumed when a client sends no MCP-Protocol-Version header (the spec's rule for old clients). */
export const DEFAULT_NEGOTIATED_VERSION = "2025-03-26";

const supported: ReadonlySet<string> = new Set(SUPPORTED_PROTOCOL_VERSIONS);
export const isSupportedProtocolVersion = (v: string): boolean => supported.has(v);

/** Which policy target a method is judged as, and where in params its name lives. */
export const GOVERNED_METHODS: Readonly<Record<string, { target: "mcp.tool" | "mcp.resource" | "mcp.prompt"; nameParam: "name" | "uri" }>> = {
  "tools/call": { target: "mcp.tool", nameParam: "name" },
  "resources/read": { target: "mcp.resource", nameParam: "uri" },
  "resources/subscribe": { target: "mcp.resource", nameParam: "uri" },
  "prompts/get": { target: "mcp.prompt", nameParam: "name" },
};
