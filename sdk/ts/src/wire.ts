/**
 * The wire contract between agents and the Sentinel gateway.
 *
 * This file is the only thing the SDK shares with the gateway: header names, the endpoint
 * layout and the shape of the `data` member the gateway puts on every JSON-RPC error it
 * raises itself. Stock MCP clients need nothing else to talk to Sentinel.
 */

/** Every MCP connection is served at `/mcp/<connection>`. */
export const MCP_PATH_PREFIX = "/mcp/";

export const mcpPath = (connection: string): string =>
  MCP_PATH_PREFIX + encodeURIComponent(connection);

export const HEADERS = {
  /** `Bearer <api key>`; the key binds the caller to one tenant. */
  authorization: "authorization",
  /** The end user the agent acts for. Fixed for the life of the session. */
  user: "x-sentinel-user",
  /** A JSON object of caller metadata (role, department, …). Fixed for the life of the session. */
  metadata: "x-sentinel-metadata",
  /** Per-key metadata: `x-sentinel-meta-role: developer` equals `{"role":"developer"}`. */
  metadataPrefix: "x-sentinel-meta-",
  /** Set by the gateway on every response: the trace id of the call, for audit lookup. */
  traceId: "x-sentinel-trace-id",
  sessionId: "mcp-session-id",
  protocolVersion: "mcp-protocol-version",
} as const;

/** Attached as `error.data` to every JSON-RPC error the gateway itself raises. */
export interface SentinelErrorData {
  /** A stable code from the gateway's error registry, e.g. `SENTINEL_POLICY_DENIED`. */
  readonly code: string;
  /** A human-readable reason, safe to show to the agent (never contains a secret). */
  readonly reason: string;
  /** The rule that decided, where a policy rule did (`default-deny` when none matched). */
  readonly ruleId?: string;
  /** The trace id of the refused call. */
  readonly traceId?: string;
  /** For limit refusals: how long to wait before retrying. */
  readonly retryAfterMs?: number;
}

export const isSentinelErrorData = (value: unknown): value is SentinelErrorData =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as { code?: unknown }).code === "string" &&
  (value as { code: string }).code.startsWith("SENTINEL_") &&
  typeof (value as { reason?: unknown }).reason === "string";
