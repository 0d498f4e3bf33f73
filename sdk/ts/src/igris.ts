/**
 * `Igris` opens governed MCP connections through the Sentinel gateway; a `GovernedConnection` is
 * one of them. Underneath is a stock `@modelcontextprotocol/sdk` `Client` over
 * `StreamableHTTPClientTransport`: the SDK adds the identity headers, the error mapping and a few
 * conveniences, nothing the gateway would need a custom client for.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult, GetPromptResult, Prompt, ReadResourceResult, Resource, Tool } from "@modelcontextprotocol/sdk/types.js";
import { SentinelError, TransportError, sentinelRefusalFromBody, toIgrisError } from "./errors.js";
import {
  resolveCallOptions,
  resolveIdentity,
  resolveOptions,
  validateConnection,
  validateString,
  validateStringRecord,
  validateToolCall,
} from "./options.js";
import type { CallOptions, ConnectOptions, IgrisOptions, Metadata } from "./options.js";
import { HEADERS, mcpPath } from "./wire.js";

/** Kept equal to `version` in package.json (a unit test checks). */
export const SDK_VERSION = "0.1.0";

/** Stop following `nextCursor` after this many pages: a server that never ends its listing is broken. */
const MAX_PAGES = 1000;

export class Igris {
  readonly #apiKey: string;
  readonly #fetch: FetchLike | undefined;
  /** The gateway's base URL, without a trailing slash. */
  readonly baseUrl: string;
  /** The default per-request timeout in milliseconds. */
  readonly timeoutMs: number;

  constructor(options: IgrisOptions) {
    const resolved = resolveOptions(options);
    this.#apiKey = resolved.apiKey;
    this.#fetch = resolved.fetch;
    this.baseUrl = resolved.baseUrl.href.replace(/\/+$/, "");
    this.timeoutMs = resolved.timeoutMs;
  }

  /** The MCP endpoint of `connection` on this gateway. */
  endpoint(connection: string): URL {
    return new URL(this.baseUrl + mcpPath(validateConnection(connection)));
  }

  /**
   * Opens a governed MCP session on `connection` for `user`, and completes the MCP handshake.
   *
   * Rejects with a `SentinelError` when the gateway refuses the session (bad API key, unknown
   * connection, malformed identity), with a `TransportError` when it cannot be reached.
   */
  async connect(connection: string, options?: ConnectOptions): Promise<GovernedConnection> {
    const name = validateConnection(connection);
    const identity = resolveIdentity(options);
    const endpoint = new URL(this.baseUrl + mcpPath(name));

    const headers: Record<string, string> = { [HEADERS.authorization]: `Bearer ${this.#apiKey}` };
    if (identity.user !== undefined) headers[HEADERS.user] = identity.user;
    if (identity.metadataHeader !== undefined) headers[HEADERS.metadata] = identity.metadataHeader;

    const state: FetchState = { lastTraceId: undefined };
    const transport = new StreamableHTTPClientTransport(endpoint, {
      requestInit: { headers },
      fetch: governedFetch(this.#fetch ?? ((url, init) => fetch(url, init)), state),
    });
    const client = new Client({ name: "@igris-security/sdk", version: SDK_VERSION }, { capabilities: {} });
    const requestOptions: RequestOptions = { timeout: identity.timeoutMs ?? this.timeoutMs };
    if (identity.signal !== undefined) requestOptions.signal = identity.signal;
    try {
      await client.connect(transport, requestOptions);
    } catch (error) {
      await client.close().catch(() => undefined);
      if (identity.signal?.aborted === true) throw identity.signal.reason;
      throw toIgrisError(error, endpoint.href);
    }
    return new GovernedConnection({ connection: name, user: identity.user, metadata: identity.metadata, endpoint, client, transport, state, timeoutMs: this.timeoutMs });
  }

  /**
   * The same as {@link connect}. The name follows the product's quick-start; the agent's side of a
   * governed connection is always Streamable HTTP to the gateway, whatever transport the gateway
   * uses to reach the upstream server.
   */
  connectStdio(connection: string, options?: ConnectOptions): Promise<GovernedConnection> {
    return this.connect(connection, options);
  }
}

interface FetchState {
  lastTraceId: string | undefined;
}

const isAbort = (error: unknown): boolean => error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");

const describeNetworkFailure = (error: unknown): string => {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message !== "") return cause.message;
  return error instanceof Error ? error.message : String(error);
};

/**
 * Wraps `fetch` for the transport: records the gateway's trace id, turns a network failure into a
 * `TransportError`, and turns an HTTP-level refusal (a POST answered 4xx/5xx with a JSON-RPC error
 * whose `data` is Sentinel's) into a `SentinelError` before the transport reduces it to a string.
 * GET (the optional SSE stream) and DELETE (session end) responses pass through: a 405 there is
 * normal.
 */
const governedFetch =
  (base: FetchLike, state: FetchState): FetchLike =>
  async (url, init) => {
    let response: Response;
    try {
      response = await base(url, init);
    } catch (error) {
      if (isAbort(error)) throw error;
      throw new TransportError(`Cannot reach Sentinel at ${String(url)}: ${describeNetworkFailure(error)}`, { cause: error });
    }
    const traceId = response.headers.get(HEADERS.traceId) ?? undefined;
    if (traceId !== undefined) state.lastTraceId = traceId;
    if (response.status < 400 || (init?.method ?? "GET").toUpperCase() !== "POST") return response;
    const body = await response
      .clone()
      .text()
      .catch(() => "");
    const refusal = sentinelRefusalFromBody(body);
    if (refusal === undefined) return response;
    await response.body?.cancel().catch(() => undefined);
    throw new SentinelError(refusal.data, { jsonRpcCode: refusal.jsonRpcCode, httpStatus: response.status, traceId });
  };

interface ConnectionParts {
  readonly connection: string;
  readonly user: string | undefined;
  readonly metadata: Metadata | undefined;
  readonly endpoint: URL;
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  readonly state: FetchState;
  readonly timeoutMs: number;
}

/** One governed MCP session. Every request goes through the gateway's pipeline. */
export class GovernedConnection {
  /** The connection name, e.g. `github-prod`. */
  readonly connection: string;
  /** The end user this session acts for. */
  readonly user: string | undefined;
  /** The caller metadata fixed for this session. */
  readonly metadata: Metadata | undefined;
  /** The MCP endpoint, `<baseUrl>/mcp/<connection>`. */
  readonly endpoint: URL;
  /** The underlying MCP client, for anything this class does not wrap (its errors are not mapped). */
  readonly client: Client;
  readonly #transport: StreamableHTTPClientTransport;
  readonly #state: FetchState;
  readonly #timeoutMs: number;
  #closed = false;

  /** @internal Use `Igris.connect()`. */
  constructor(parts: ConnectionParts) {
    this.connection = parts.connection;
    this.user = parts.user;
    this.metadata = parts.metadata;
    this.endpoint = parts.endpoint;
    this.client = parts.client;
    this.#transport = parts.transport;
    this.#state = parts.state;
    this.#timeoutMs = parts.timeoutMs;
  }

  /** The gateway's session id (`Mcp-Session-Id`). */
  get sessionId(): string | undefined {
    return this.#transport.sessionId;
  }

  /** The `x-sentinel-trace-id` of the most recent response from the gateway, for audit lookup. */
  get lastTraceId(): string | undefined {
    return this.#state.lastTraceId;
  }

  /** Whether {@link close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Calls `tool` with `args` through the gateway.
   *
   * Resolves with the tool's result, including a result with `isError: true` (the tool ran and
   * failed). Rejects with `SentinelError` when the gateway refused, `UpstreamError` when the
   * upstream answered with a JSON-RPC error, `TransportError` when the gateway did not answer.
   */
  async call(tool: string, args?: Record<string, unknown>, options?: CallOptions): Promise<CallToolResult> {
    const validArgs = validateToolCall(tool, args);
    const request = this.#requestOptions("mcp.call(tool, args, options)", options);
    const result = await this.#run(request, () => this.client.callTool({ name: tool, arguments: validArgs }, undefined, request));
    return result as CallToolResult;
  }

  /** Every tool the caller may see on this connection (all pages). */
  async listTools(options?: CallOptions): Promise<Tool[]> {
    const request = this.#requestOptions("mcp.listTools(options)", options);
    return this.#paginate(request, async (cursor) => {
      const page = await this.client.listTools(cursor === undefined ? undefined : { cursor }, request);
      return { items: page.tools, nextCursor: page.nextCursor };
    });
  }

  /** Every resource on this connection (all pages). */
  async listResources(options?: CallOptions): Promise<Resource[]> {
    const request = this.#requestOptions("mcp.listResources(options)", options);
    return this.#paginate(request, async (cursor) => {
      const page = await this.client.listResources(cursor === undefined ? undefined : { cursor }, request);
      return { items: page.resources, nextCursor: page.nextCursor };
    });
  }

  async readResource(uri: string, options?: CallOptions): Promise<ReadResourceResult> {
    const validUri = validateString("mcp.readResource(uri): uri", uri);
    const request = this.#requestOptions("mcp.readResource(uri, options)", options);
    return this.#run(request, () => this.client.readResource({ uri: validUri }, request));
  }

  /** Every prompt on this connection (all pages). */
  async listPrompts(options?: CallOptions): Promise<Prompt[]> {
    const request = this.#requestOptions("mcp.listPrompts(options)", options);
    return this.#paginate(request, async (cursor) => {
      const page = await this.client.listPrompts(cursor === undefined ? undefined : { cursor }, request);
      return { items: page.prompts, nextCursor: page.nextCursor };
    });
  }

  async getPrompt(name: string, args?: Record<string, string>, options?: CallOptions): Promise<GetPromptResult> {
    const validName = validateString("mcp.getPrompt(name): name", name);
    const validArgs = validateStringRecord("mcp.getPrompt(name, args): args", args);
    const request = this.#requestOptions("mcp.getPrompt(name, args, options)", options);
    const params = validArgs === undefined ? { name: validName } : { name: validName, arguments: validArgs };
    return this.#run(request, () => this.client.getPrompt(params, request));
  }

  /**
   * Ends the session: asks the gateway to end it (`DELETE`), then closes the client. Safe to call
   * more than once; never rejects because the gateway had already forgotten the session.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#transport.terminateSession();
    } catch {
      // The session is gone either way; the gateway expires sessions it is not told about.
    }
    await this.client.close();
  }

  #requestOptions(what: string, options: unknown): RequestOptions {
    const { timeoutMs, signal } = resolveCallOptions(what, options);
    const request: RequestOptions = { timeout: timeoutMs ?? this.#timeoutMs };
    if (signal !== undefined) request.signal = signal;
    return request;
  }

  async #run<T>(request: RequestOptions, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new TransportError(`The connection to ${this.endpoint.href} is closed`);
    try {
      return await fn();
    } catch (error) {
      if (request.signal?.aborted === true) throw request.signal.reason;
      throw toIgrisError(error, this.endpoint.href);
    }
  }

  async #paginate<T>(request: RequestOptions, page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    for (let n = 0; n < MAX_PAGES; n += 1) {
      const next = await this.#run(request, () => page(cursor));
      items.push(...next.items);
      if (next.nextCursor === undefined || next.nextCursor === cursor) return items;
      cursor = next.nextCursor;
    }
    return items;
  }
}
