/**
 * The outbound hop to an LLM provider: a keep-alive undici pool composed with the same
 * interceptors as MCP's HTTP upstreams, so the vault credential is injected on the wire from
 * the version the call leased and no configured or caller header can override it. The gateway
 * sends its own headers only (content type, accept); nothing the client sent is forwarded, so
 * the agent's Sentinel key never reaches the provider.
 */
import { Pool, errors, type Dispatcher } from "undici";
import type { LlmConnectionConfig, LlmProvider } from "../config/types.js";
import { refuse, type Refusal } from "../errors.js";
import type { DownstreamExchange } from "../gateway/downstream.js";
import { CALL_CREDENTIAL, credentialHeaders, MissingCredentialError } from "../upstream/interceptors/credential-headers.js";
import { staticHeaders } from "../upstream/interceptors/static-headers.js";
import type { CallCredential, UpstreamConnection, UpstreamCredential, UpstreamSession } from "../upstream/upstream.js";

export interface LlmReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Dispatcher.ResponseData["body"];
}

export class LlmUpstream implements UpstreamConnection {
  readonly name: string;
  readonly timeoutMs: number;
  readonly provider: LlmProvider;
  private readonly pool: Pool;
  private readonly dispatcher: Dispatcher;
  private readonly basePath: string;
  private readonly search: string;

  constructor(config: LlmConnectionConfig, credential?: UpstreamCredential) {
    this.name = config.name;
    this.timeoutMs = config.timeoutMs ?? 60_000;
    this.provider = config.provider ?? "openai";
    const url = new URL(config.url);
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.search = url.search;
    this.pool = new Pool(url.origin, { connections: config.maxConnections ?? 64, keepAliveTimeout: 30_000 });
    const intercept = credential === undefined ? [staticHeaders(config.headers ?? {})] : [credentialHeaders(), staticHeaders(config.headers ?? {})];
    this.dispatcher = this.pool.compose(intercept);
  }

  /** LLM connections are not MCP servers; the MCP pipeline never routes to one. */
  openSession(): UpstreamSession {
    throw new Error(`connection "${this.name}" is an llm connection, not an MCP upstream`);
  }

  /**
   * One request to `<base>/<path>`. `timeoutMs` bounds the wait for the answer's headers and
   * each quiet gap inside its body, so a stream that keeps producing is never cut while a
   * stalled one is. `signal` cancels the request, or its body once it is being read.
   */
  async request(method: "GET" | "POST", path: string, body: string | undefined, credential: CallCredential | undefined, signal?: AbortSignal): Promise<LlmReply | Refusal> {
    const headers: Record<string, string> = { accept: "application/json, text/event-stream" };
    if (body !== undefined) headers["content-type"] = "application/json";
    try {
      const res = await this.dispatcher.request({
        [CALL_CREDENTIAL]: credential,
        origin: undefined,
        path: `${this.basePath}/${path}${this.search}`,
        method,
        headers,
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal,
      } as Dispatcher.RequestOptions);
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (err) {
      return upstreamFault(err as Error, this.name, this.timeoutMs);
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** An outbound failure as the refusal the client gets; the provider's own errors are not faults. */
export function upstreamFault(err: Error, connection: string, timeoutMs: number): Refusal {
  if (err instanceof MissingCredentialError) return refuse("SENTINEL_CREDENTIAL_UNAVAILABLE", `connection "${connection}" has no credential to send`);
  if (err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError) {
    return refuse("SENTINEL_UPSTREAM_TIMEOUT", `the provider did not answer within ${timeoutMs} ms`);
  }
  return refuse("SENTINEL_UPSTREAM_UNAVAILABLE", `the provider behind "${connection}" could not be reached (${(err as { code?: string }).code ?? err.name})`);
}

export function header(headers: LlmReply["headers"], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Provider headers a client may rely on (request ids for support, rate-limit state, when to retry). */
const PASSED = new Set(["x-request-id", "openai-processing-ms", "openai-version", "retry-after", "retry-after-ms"]);

/**
 * Passes those headers on, except one that quotes a secret of the credential (a provider may
 * echo the key anywhere). It is dropped rather than masked: the mask's dots are not ASCII, and
 * a header value must be.
 */
export function passHeaders(reply: LlmReply, ex: DownstreamExchange, scrub: (text: string) => string): void {
  for (const [name, raw] of Object.entries(reply.headers)) {
    if (raw === undefined || !(PASSED.has(name) || name.startsWith("x-ratelimit-"))) continue;
    const value = Array.isArray(raw) ? raw.join(", ") : raw;
    if (scrub(value) === value) ex.setHeader(name, value);
  }
}
