/**
 * The errors the SDK throws, and the one function that turns whatever the MCP client raised into
 * one of them.
 *
 * - {@link SentinelError}: the gateway refused (policy, auth, limits, unknown connection, …). The
 *   refusal's `data` is the gateway's {@link SentinelErrorData}.
 * - {@link UpstreamError}: any other JSON-RPC error, i.e. one the upstream MCP server raised and
 *   the gateway passed through untouched. It is an `McpError`, so existing `instanceof McpError`
 *   checks keep working.
 * - {@link TransportError}: the gateway could not be reached or did not answer with MCP (network
 *   failure, an HTTP error without a Sentinel body, a request timeout, a closed connection).
 *
 * A tool result with `isError: true` is not an error here: the tool ran and reported a failure,
 * and `call()` returns it.
 */
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { isSentinelErrorData } from "./wire.js";
import type { SentinelErrorData } from "./wire.js";

export interface SentinelErrorOptions {
  /** The JSON-RPC error code the gateway used (e.g. -32003 for a policy denial). */
  readonly jsonRpcCode?: number;
  /** The HTTP status, when the gateway refused at the HTTP layer (401, 404, …) rather than inside a 200 response. */
  readonly httpStatus?: number;
  /** A trace id to use when `data` carries none (from the `x-sentinel-trace-id` response header). */
  readonly traceId?: string;
  readonly cause?: unknown;
}

/** The gateway refused the request. `code` is stable; `reason` is safe to show to the agent. */
export class SentinelError extends Error {
  override readonly name = "SentinelError";
  /** A stable code from the gateway's registry, e.g. `SENTINEL_POLICY_DENIED`. */
  readonly code: string;
  /** Why the gateway refused, e.g. `role !∈ {admin}`. Never contains a secret. */
  readonly reason: string;
  /** The policy rule that decided, when one did (`default-deny` when none matched). */
  readonly ruleId: string | undefined;
  /** The trace id of the refused call, for audit lookup. */
  readonly traceId: string | undefined;
  /** For limit refusals: how long to wait before retrying. */
  readonly retryAfterMs: number | undefined;
  readonly jsonRpcCode: number | undefined;
  readonly httpStatus: number | undefined;
  /** The raw `error.data` the gateway sent. */
  readonly data: SentinelErrorData;

  constructor(data: SentinelErrorData, options: SentinelErrorOptions = {}) {
    super(`${data.code}: ${data.reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = data.code;
    this.reason = data.reason;
    this.ruleId = typeof data.ruleId === "string" ? data.ruleId : undefined;
    this.traceId = typeof data.traceId === "string" ? data.traceId : options.traceId;
    this.retryAfterMs = typeof data.retryAfterMs === "number" ? data.retryAfterMs : undefined;
    this.jsonRpcCode = options.jsonRpcCode;
    this.httpStatus = options.httpStatus;
    this.data = data;
  }
}

const MCP_PREFIX = /^MCP error -?\d+: /;

/** A JSON-RPC error that the gateway did not raise itself: the upstream MCP server's own error. */
export class UpstreamError extends McpError {
  override readonly name = "UpstreamError";

  /** `message` is the JSON-RPC error's message; the `Error.message` reads `MCP error <code>: <message>`. */
  constructor(code: number, message: string, data?: unknown) {
    super(code, message, data);
  }

  static fromMcpError(error: McpError): UpstreamError {
    return new UpstreamError(error.code, error.message.replace(MCP_PREFIX, ""), error.data);
  }
}

export interface TransportErrorOptions {
  /** The HTTP status, when the gateway (or whatever answered at `baseUrl`) sent one. */
  readonly status?: number;
  /** The response body, when there was one (truncated to 2 KiB). */
  readonly body?: string;
  readonly cause?: unknown;
}

/** The gateway could not be reached, or did not answer with MCP. */
export class TransportError extends Error {
  override readonly name = "TransportError";
  readonly status: number | undefined;
  readonly body: string | undefined;

  constructor(message: string, options: TransportErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.body = options.body === undefined ? undefined : truncate(options.body, 2048);
  }
}

const truncate = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max)}…`);

export interface SentinelRefusal {
  readonly data: SentinelErrorData;
  readonly jsonRpcCode: number | undefined;
}

/**
 * Finds the gateway's refusal in an HTTP response body: a JSON-RPC error response (or a batch
 * holding one) whose `error.data` is {@link SentinelErrorData}. Undefined for anything else.
 */
export const sentinelRefusalFromBody = (body: string): SentinelRefusal | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
    if (typeof message !== "object" || message === null) continue;
    const error = (message as { error?: unknown }).error;
    if (typeof error !== "object" || error === null) continue;
    const { code, data } = error as { code?: unknown; data?: unknown };
    if (isSentinelErrorData(data)) return { data, jsonRpcCode: typeof code === "number" ? code : undefined };
  }
  return undefined;
};

/** `StreamableHTTPClientTransport` puts the body of a failed POST in its error message after this. */
const POST_FAILURE = "Error POSTing to endpoint: ";

const isLocalTimeout = (error: McpError): boolean =>
  error.code === ErrorCode.RequestTimeout &&
  error.message === `MCP error ${ErrorCode.RequestTimeout}: Request timed out` &&
  typeof (error.data as { timeout?: unknown } | undefined)?.timeout === "number";

const isLocalClose = (error: McpError): boolean =>
  error.code === ErrorCode.ConnectionClosed && error.message === `MCP error ${ErrorCode.ConnectionClosed}: Connection closed`;

/**
 * Maps whatever the MCP client raised to the SDK's errors. Errors it does not recognise (an
 * abort, a bug) are returned unchanged.
 */
export const toIgrisError = (error: unknown, endpoint: string): unknown => {
  if (error instanceof SentinelError || error instanceof UpstreamError || error instanceof TransportError) return error;
  if (error instanceof McpError) {
    if (isSentinelErrorData(error.data)) return new SentinelError(error.data, { jsonRpcCode: error.code, cause: error });
    if (isLocalTimeout(error)) {
      const { timeout } = error.data as { timeout: number };
      return new TransportError(`No answer from ${endpoint} within ${timeout}ms`, { cause: error });
    }
    if (isLocalClose(error)) return new TransportError(`The connection to ${endpoint} closed before the answer arrived`, { cause: error });
    return UpstreamError.fromMcpError(error);
  }
  if (error instanceof StreamableHTTPError) {
    const at = error.message.indexOf(POST_FAILURE);
    const body = at === -1 ? undefined : error.message.slice(at + POST_FAILURE.length);
    const refusal = body === undefined ? undefined : sentinelRefusalFromBody(body);
    if (refusal !== undefined) {
      return new SentinelError(refusal.data, { jsonRpcCode: refusal.jsonRpcCode, httpStatus: error.code, cause: error });
    }
    const status = error.code !== undefined && error.code > 0 ? error.code : undefined;
    const detail = body ?? error.message.replace(/^Streamable HTTP error: /, "");
    return new TransportError(
      status === undefined ? `${endpoint}: ${detail}` : `HTTP ${status} from ${endpoint}${detail === "" ? "" : `: ${truncate(detail, 200)}`}`,
      { status, body, cause: error },
    );
  }
  return error;
};
