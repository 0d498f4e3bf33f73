/**
 * OAuth 2.0 client credentials grant (RFC 6749 §4.4) for upstreams that want a bearer access
 * token. The client secret stays in the vault; the gateway exchanges it for a token, caches the
 * token, and fetches the next one before the current one expires, so calls do not wait on the
 * token endpoint in steady state. Concurrent callers share one request (single flight).
 */
import { request } from "undici";
import type { OAuthClientConfig } from "../config/types.js";
import { Scrubber } from "./masking.js";

export interface OAuthToken {
  readonly accessToken: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** When to fetch the next one: before expiry by `refreshBeforeSeconds`, or half the lifetime if shorter. */
  readonly refreshAt: number;
  /** A little before expiry: a token sent at the last millisecond would expire on the way. */
  readonly usableUntil: number;
}

export class OAuthError extends Error {
  override readonly name = "OAuthError";
}

const DEFAULT_LIFETIME_S = 3600;
const REQUEST_TIMEOUT_MS = 10_000;

export interface OAuthHooks {
  /** Called with each new token, so injected headers and the scrubber follow it. */
  onToken(token: OAuthToken): void;
  /** A refresh ahead of expiry failed; the current token is kept until it runs out. */
  onError(err: Error): void;
  /**
   * When set, a refresh that falls due is handed to the owner instead of being fetched here:
   * a token given to stdio children cannot change under them, so the owner fetches the next
   * one and switches to it the way a rotation does.
   */
  onRefreshDue?(): void;
}

export class OAuthTokenSource {
  private current: OAuthToken | undefined;
  private inflight: Promise<OAuthToken> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private usedSinceFetch = false;
  private closed = false;

  constructor(
    private readonly config: OAuthClientConfig,
    private readonly clientSecret: string,
    private readonly hooks: OAuthHooks,
    private readonly now: () => number = Date.now,
  ) {}

  /** A usable token at once when one is cached, otherwise the pending fetch. */
  token(): OAuthToken | Promise<OAuthToken> {
    this.usedSinceFetch = true;
    const t = this.current;
    if (t !== undefined && this.now() < t.usableUntil) return t;
    return this.fetch();
  }

  /** The token is in use (by calls or children), so the refresh ahead of expiry should happen. */
  touch(): void {
    this.usedSinceFetch = true;
  }

  /** Fetches a new token now, or joins the fetch already on its way. */
  refresh(): Promise<OAuthToken> {
    return this.fetch();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private fetch(): Promise<OAuthToken> {
    this.inflight ??= this.exchange().then(
      (token) => {
        this.inflight = undefined;
        if (this.closed) return token;
        this.current = token;
        this.usedSinceFetch = false;
        this.hooks.onToken(token);
        this.schedule(token);
        return token;
      },
      (err: Error) => {
        this.inflight = undefined;
        throw err;
      },
    );
    return this.inflight;
  }

  /**
   * Refreshes ahead of expiry only for a credential in use: an idle one lets its token lapse
   * and fetches a new one on the next call, instead of polling the token endpoint forever.
   */
  private schedule(token: OAuthToken): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.closed || !this.usedSinceFetch) return;
      if (this.hooks.onRefreshDue !== undefined) this.hooks.onRefreshDue();
      else this.fetch().catch((err: Error) => this.hooks.onError(err));
    }, Math.max(0, token.refreshAt - this.now()));
    this.timer.unref();
  }

  private async exchange(): Promise<OAuthToken> {
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    if (this.config.scope !== undefined) form.set("scope", this.config.scope);
    if (this.config.audience !== undefined) form.set("audience", this.config.audience);
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
    if ((this.config.clientAuth ?? "basic") === "basic") {
      // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64'd.
      const pair = `${encodeURIComponent(this.config.clientId)}:${encodeURIComponent(this.clientSecret)}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
    } else {
      form.set("client_id", this.config.clientId);
      form.set("client_secret", this.clientSecret);
    }
    const started = this.now();
    let status: number;
    let text: string;
    try {
      const res = await request(this.config.tokenUrl, { method: "POST", headers, body: form.toString(), headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw new OAuthError(`token endpoint ${this.config.tokenUrl} unreachable (${(err as { code?: string }).code ?? (err as Error).message})`);
    }
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // reported below
    }
    if (status !== 200) {
      const scrub = new Scrubber([this.clientSecret]);
      const detail = typeof body.error === "string" ? `${body.error}${typeof body.error_description === "string" ? `: ${body.error_description}` : ""}` : "no OAuth error body";
      throw new OAuthError(scrub.text(`token endpoint ${this.config.tokenUrl} answered ${status} (${detail})`));
    }
    if (typeof body.access_token !== "string" || body.access_token === "") throw new OAuthError(`token endpoint ${this.config.tokenUrl} answered without an access_token`);
    if (typeof body.token_type !== "string" || body.token_type.toLowerCase() !== "bearer") {
      throw new OAuthError(`token endpoint ${this.config.tokenUrl} issued a "${String(body.token_type)}" token; only bearer tokens can be injected`);
    }
    const lifetimeS = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : DEFAULT_LIFETIME_S;
    // Lifetime counts from when the request was sent: the server started its clock before answering.
    const expiresAt = started + lifetimeS * 1000;
    const lead = Math.min((this.config.refreshBeforeSeconds ?? 60) * 1000, (lifetimeS * 1000) / 2);
    return { accessToken: body.access_token, expiresAt, refreshAt: expiresAt - lead, usableUntil: expiresAt - Math.min(2000, lifetimeS * 100) };
  }
}
