/**
 * One decrypted secret version in memory: its wire material (headers, env), the values the
 * scrubber looks for, and the counters that decide when it may be dropped. A version is the
 * lease a call holds: the outbound interceptor reads `headers` from it at dispatch.
 */
import type { CredentialConfig } from "../config/types.js";
import type { CallCredential } from "../upstream/upstream.js";
import { buildMaterial } from "./credential-material.js";
import { OAuthTokenSource, type OAuthToken } from "./oauth-client.js";
import type { SecretRecord } from "./secret-records.js";
import type { VaultEvent } from "./vault-events.js";

export interface CredentialContext {
  readonly cacheTtlMs: number;
  readonly drainTimeoutMs: number;
  decrypt(record: SecretRecord): Promise<string>;
  emit(event: VaultEvent): void;
}

/**
 * The credential cannot be used now. `message` goes to the agent and names only the
 * credential; `detail` (key ids, paths, the token endpoint's answer) goes to the gateway log.
 */
export class CredentialUnavailableError extends Error {
  override readonly name = "CredentialUnavailableError";
  constructor(
    message: string,
    readonly detail: string = message,
  ) {
    super(message);
  }
}

/** How a version reports back to its credential. */
export interface VersionHooks {
  /** The version's scrub values changed (a new OAuth token). */
  onChange(): void;
  /** A background token refresh failed. */
  onTokenError(err: Error): void;
  /** A token given to children is due for refresh (see CredentialVersion.tokenInEnv). */
  onRefreshDue(): void;
}

/** Decrypts a record into a version ready to inject; any failure is a CredentialUnavailableError. */
export async function openVersion(record: SecretRecord, config: CredentialConfig, ctx: CredentialContext, hooks: VersionHooks): Promise<CredentialVersion> {
  try {
    const secret = await ctx.decrypt(record);
    return await CredentialVersion.create(record, config, secret, Date.now(), hooks);
  } catch (err) {
    throw unavailable(config.name, err as Error, record.version);
  }
}

export function unavailable(name: string, err: Error, version?: number): CredentialUnavailableError {
  if (err instanceof CredentialUnavailableError) return err;
  const which = `credential ${name}${version === undefined ? "" : ` v${version}`}`;
  return new CredentialUnavailableError(`${which} cannot be used right now; the gateway log has the reason`, `${which} cannot be used: ${err.message}`);
}

export class CredentialVersion implements CallCredential {
  headers: Readonly<Record<string, string>> | undefined;
  env: Readonly<Record<string, string>> | undefined;
  scrub: readonly string[];
  /** Calls admitted on this version and not yet finished. */
  inFlight = 0;
  /** Child processes running with this version in their environment. */
  holds = 0;
  /** The OAuth access token in this version's headers or environment. */
  token: OAuthToken | undefined;
  private secret: string;
  private oauth: OAuthTokenSource | undefined;

  private constructor(
    readonly record: SecretRecord,
    private readonly config: CredentialConfig,
    secret: string,
    /** When the secret was decrypted; a token refresh's successor keeps it (same decrypted secret). */
    readonly loadedAt: number,
    /**
     * An OAuth token handed to stdio children (`envVar`): a child cannot see a new token in its
     * environment, so a refresh makes a successor version that the credential switches to like
     * a rotation (drain, then restart the children), instead of updating this one in place.
     */
    readonly tokenInEnv: boolean,
  ) {
    this.secret = secret;
    const m = config.type === "oauth-client-credentials" ? { headers: undefined, env: undefined, scrub: [secret] } : buildMaterial(config, secret);
    this.headers = m.headers;
    this.env = m.env;
    this.scrub = m.scrub;
  }

  get version(): number {
    return this.record.version;
  }

  /**
   * Builds a version from its decrypted secret. OAuth versions fetch their first token here,
   * so a rotation to a client secret the token endpoint refuses fails before the switch.
   */
  static async create(record: SecretRecord, config: CredentialConfig, secret: string, now: number, hooks: VersionHooks): Promise<CredentialVersion> {
    const tokenInEnv = config.type === "oauth-client-credentials" && config.envVar !== undefined;
    const v = new CredentialVersion(record, config, secret, now, tokenInEnv);
    if (config.type !== "oauth-client-credentials") return v;
    v.oauth = new OAuthTokenSource(config.oauth!, secret, {
      onToken: (token) => {
        // In place only for headers read at dispatch; a token for children goes into a successor.
        if (tokenInEnv) return;
        v.useToken(token);
        hooks.onChange();
      },
      onError: hooks.onTokenError,
      onRefreshDue: tokenInEnv ? hooks.onRefreshDue : undefined,
    });
    try {
      const token = await v.oauth.token();
      if (tokenInEnv) v.useToken(token);
    } catch (err) {
      v.drop();
      throw err;
    }
    return v;
  }

  /** Ready to inject now, or after the token it needs has been fetched. */
  ready(): CredentialVersion | Promise<CredentialVersion> {
    if (this.oauth === undefined) return this;
    if (this.tokenInEnv) {
      this.oauth.touch();
      return this;
    }
    const t = this.oauth.token();
    return t instanceof Promise ? t.then(() => this) : this;
  }

  /** False once a token given to children is past use: calls must wait for the successor. */
  usable(now = Date.now()): boolean {
    return !this.tokenInEnv || this.token === undefined || now < this.token.usableUntil;
  }

  /** The next token for a successor: a fresh one (`force`), or the source's current one if still usable. */
  nextToken(force: boolean): Promise<OAuthToken> {
    const source = this.oauth;
    if (source === undefined) return Promise.reject(new Error("the token source moved to a newer copy of this version"));
    return Promise.resolve(force ? source.refresh() : source.token());
  }

  /** The same secret version with a new token; it takes over the token source and its refresh schedule. */
  successor(token: OAuthToken): CredentialVersion {
    const next = new CredentialVersion(this.record, this.config, this.secret, this.loadedAt, this.tokenInEnv);
    next.oauth = this.oauth;
    this.oauth = undefined;
    next.useToken(token);
    return next;
  }

  get idle(): boolean {
    return this.inFlight === 0 && this.holds === 0;
  }

  /** Forgets the secret. JS strings cannot be wiped; dropping every reference lets them be collected. */
  drop(): void {
    this.oauth?.close();
    this.oauth = undefined;
    this.secret = "";
    this.token = undefined;
    this.headers = undefined;
    this.env = undefined;
    this.scrub = [];
  }

  private useToken(token: OAuthToken): void {
    const m = buildMaterial(this.config, this.secret, token.accessToken);
    this.headers = m.headers;
    this.env = m.env;
    // Updated in place, the previous token stays scrubbable: a call sent with it may still be
    // answering. A successor's predecessor keeps its own token (and is scrubbed while retired).
    const previous = this.token?.accessToken;
    this.scrub = previous === undefined || previous === token.accessToken ? m.scrub : [...m.scrub, previous];
    this.token = token;
  }
}
