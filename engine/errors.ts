/**
 * The one registry of errors the gateway raises itself.
 *
 * Each entry has a stable code (never renamed once shipped), the JSON-RPC error code it maps to
 * inside MCP, and the HTTP status used where the refusal happens at the transport, before or
 * outside a JSON-RPC exchange (auth, body limits, unknown session). Refusals made inside an MCP
 * exchange (policy, upstream faults) travel as JSON-RPC errors in a 200 response so that stock
 * MCP clients surface the reason instead of a bare HTTP failure; an upstream's own tool error
 * is never rewritten. `test/unit/errors.test.ts` pins that every code is listed in the README.
 */
import type { SentinelErrorData } from "../sdk/ts/src/wire.js";

/** JSON-RPC 2.0 reserved codes. */
export const JSONRPC = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
} as const;

export interface ErrorSpec {
  readonly jsonrpc: number;
  readonly http: number;
  readonly summary: string;
}

export const ERRORS = {
  SENTINEL_PARSE_ERROR: { jsonrpc: JSONRPC.parseError, http: 400, summary: "The body is not valid JSON." },
  SENTINEL_INVALID_REQUEST: {
    jsonrpc: JSONRPC.invalidRequest,
    http: 400,
    summary: "The body is not a single valid JSON-RPC 2.0 message (batches are refused).",
  },
  SENTINEL_INVALID_PARAMS: {
    jsonrpc: JSONRPC.invalidParams,
    http: 400,
    summary: "`params` is present but is not an object.",
  },
  SENTINEL_UNSUPPORTED_MEDIA_TYPE: {
    jsonrpc: JSONRPC.invalidRequest,
    http: 415,
    summary: "POST bodies must be `Content-Type: application/json`.",
  },
  SENTINEL_NOT_ACCEPTABLE: {
    jsonrpc: JSONRPC.invalidRequest,
    http: 406,
    summary: "The `Accept` header must allow both `application/json` and `text/event-stream` (POST) or `text/event-stream` (GET).",
  },
  SENTINEL_BODY_TOO_LARGE: {
    jsonrpc: JSONRPC.invalidRequest,
    http: 413,
    summary: "The body exceeds the configured `server.maxBodyBytes`.",
  },
  SENTINEL_METHOD_NOT_ALLOWED: {
    jsonrpc: JSONRPC.invalidRequest,
    http: 405,
    summary: "The HTTP method is not served on this path.",
  },
  SENTINEL_FORBIDDEN_ORIGIN: {
    jsonrpc: JSONRPC.invalidRequest,
    http: 403,
    summary: "The `Host` or `Origin` header is not on the allowlist (DNS-rebinding protection).",
  },
  SENTINEL_AUTH_MISSING: {
    jsonrpc: -32001,
    http: 401,
    summary: "No `Authorization: Bearer <api key>` header.",
  },
  SENTINEL_AUTH_INVALID: {
    jsonrpc: -32001,
    http: 401,
    summary: "The API key is unknown or revoked.",
  },
  SENTINEL_IDENTITY_INVALID: {
    jsonrpc: JSONRPC.invalidRequest,
    http: 400,
    summary: "The identity headers are malformed (metadata not a flat JSON object, conflicting keys, tenant mismatch).",
  },
  SENTINEL_IDENTITY_CHANGED: {
    jsonrpc: -32002,
    http: 403,
    summary: "A request tried to change the user or metadata fixed when its session started.",
  },
  SENTINEL_UNKNOWN_CONNECTION: {
    jsonrpc: -32004,
    http: 404,
    summary: "No connection of that name exists for the caller's tenant.",
  },
  SENTINEL_UNKNOWN_ENDPOINT: {
    jsonrpc: JSONRPC.methodNotFound,
    http: 404,
    summary: "The LLM path names no endpoint the gateway serves (`chat/completions`, `completions`, `embeddings`, `responses`, `models`).",
  },
  SENTINEL_UNKNOWN_SESSION: {
    jsonrpc: -32004,
    http: 404,
    summary: "The `Mcp-Session-Id` is unknown, ended, or belongs to another API key; start a new session.",
  },
  SENTINEL_SESSION_REQUIRED: {
    jsonrpc: JSONRPC.invalidRequest,
    http: 400,
    summary: "A request other than `initialize` arrived without `Mcp-Session-Id`.",
  },
  SENTINEL_UNSUPPORTED_PROTOCOL_VERSION: {
    jsonrpc: JSONRPC.invalidRequest,
    http: 400,
    summary: "The `MCP-Protocol-Version` header names a version the gateway does not serve.",
  },
  SENTINEL_POLICY_DENIED: {
    jsonrpc: -32003,
    http: 403,
    summary: "Policy refused the call: a deny rule matched, or no rule allowed it (deny by default).",
  },
  SENTINEL_SCOPE_DENIED: {
    jsonrpc: -32005,
    http: 403,
    summary: "The connection's credential lacks the scope the tool requires (or its constraints do not allow these arguments).",
  },
  SENTINEL_CREDENTIAL_UNAVAILABLE: {
    jsonrpc: -32014,
    http: 503,
    summary: "The connection's credential cannot be used: no secret in the vault, the root key cannot open it, or the token endpoint refused.",
  },
  SENTINEL_CONTENT_BLOCKED: {
    jsonrpc: -32020,
    http: 403,
    summary: "Content Guard found a pattern whose action is deny (in the arguments, or in a result when response inspection is on); the reason names the pattern and the JSON path, never the value.",
  },
  SENTINEL_TOKEN_CAP_EXCEEDED: {
    jsonrpc: -32021,
    http: 413,
    summary: "The call's input, output or combined tokens exceed the tenant's `tokenCaps`; over-cap input is refused before it is forwarded.",
  },
  SENTINEL_LIMIT_EXCEEDED: {
    jsonrpc: -32022,
    http: 429,
    summary: "A request, token or dollar limit is used up for its window; `retryAfterMs` says when the call would fit.",
  },
  SENTINEL_UPSTREAM_UNAVAILABLE: {
    jsonrpc: -32010,
    http: 502,
    summary: "The upstream MCP server could not be reached, or its process is not running.",
  },
  SENTINEL_UPSTREAM_TIMEOUT: {
    jsonrpc: -32011,
    http: 504,
    summary: "The upstream did not answer within the connection's `timeoutMs`.",
  },
  SENTINEL_UPSTREAM_PROTOCOL: {
    jsonrpc: -32012,
    http: 502,
    summary: "The upstream answered with something that is not valid MCP over its transport.",
  },
  SENTINEL_SHUTTING_DOWN: {
    jsonrpc: -32013,
    http: 503,
    summary: "The gateway is draining and takes no new sessions.",
  },
  SENTINEL_AUDIT_UNAVAILABLE: {
    jsonrpc: -32015,
    http: 503,
    summary: "The audit spool cannot take records (over `audit.spool.maxBytes` while sinks are down, or the disk fails); calls are refused rather than left unaudited.",
  },
  SENTINEL_ADMIN_UNAUTHENTICATED: {
    jsonrpc: -32030,
    http: 401,
    summary: "Admin API: no `Authorization: Bearer <admin token>`, or the token is unknown or revoked.",
  },
  SENTINEL_ADMIN_FORBIDDEN: {
    jsonrpc: -32031,
    http: 403,
    summary: "Admin API: the token's role or tenant scope does not allow this (an auditor writing, a tenant-scoped token reaching another tenant or a deployment-wide setting).",
  },
  SENTINEL_ADMIN_NOT_FOUND: {
    jsonrpc: -32032,
    http: 404,
    summary: "Admin API: no such tenant, object or config version.",
  },
  SENTINEL_ADMIN_VALIDATION: {
    jsonrpc: -32033,
    http: 400,
    summary: "Admin API: the change would make an invalid config; `extensions.path` is the path in the document, `extensions.field` the field of the changed object.",
  },
  SENTINEL_ADMIN_CONFLICT: {
    jsonrpc: -32034,
    http: 409,
    summary: "Admin API: the config moved past `expectedVersion`, or an object with that id already exists.",
  },
  SENTINEL_ADMIN_UNAVAILABLE: {
    jsonrpc: -32035,
    http: 503,
    summary: "Admin API: the answer lives in a gateway process this admin is not part of (sessions, limit usage), or in a vault it cannot reach.",
  },
  SENTINEL_INTERNAL: {
    jsonrpc: JSONRPC.internalError,
    http: 500,
    summary: "A bug in the gateway; the trace id locates it in the logs.",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** A refusal as a value: what the pipeline returns instead of throwing. */
export interface Refusal {
  readonly code: ErrorCode;
  readonly reason: string;
  readonly ruleId?: string;
  readonly retryAfterMs?: number;
}

export const refuse = (code: ErrorCode, reason: string, extra?: Omit<Refusal, "code" | "reason">): Refusal => ({
  code,
  reason,
  ...extra,
});

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data: SentinelErrorData;
}

/** The JSON-RPC `error` member for a refusal. */
export const toJsonRpcError = (refusal: Refusal, traceId?: string): JsonRpcErrorObject => {
  const data: { -readonly [K in keyof SentinelErrorData]: SentinelErrorData[K] } = {
    code: refusal.code,
    reason: refusal.reason,
  };
  if (refusal.ruleId !== undefined) data.ruleId = refusal.ruleId;
  if (refusal.retryAfterMs !== undefined) data.retryAfterMs = refusal.retryAfterMs;
  if (traceId !== undefined) data.traceId = traceId;
  return { code: ERRORS[refusal.code].jsonrpc, message: `${refusal.code}: ${refusal.reason}`, data };
};

/** A thrown error for configuration and start-up faults, which are not refusals. */
export class SentinelConfigError extends Error {
  override readonly name = "SentinelConfigError";
  constructor(
    readonly file: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${file}: ${path === "" ? "(root)" : path}: ${reason}`);
  }
}
