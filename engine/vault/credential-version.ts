/**
 * One decrypted secret version in memory: its wire material (headers, env), the values the
 * scrubber looks for, and the counters that decide when it may be dropped. A version is the
 * lease a call holds: the outbound interceptor reads `headers` from it at dispatch.
 */
import type { CredentialConfig } from "../config/types.js";
import type { CallCredential } from "../upstream/upstream.js";
import { buildMaterial } from "./credential-material.js";
import { OAuthTokenSource } from "./oauth-client.js";
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

/** Decrypts a record into a version ready to inject; any failure is a CredentialUnavailableError. */
export async function openVersion(record: SecretRecord, config: CredentialConfig, ctx: CredentialContext, onChange: () => void): Promise<CredentialVersion> {
  try {
    const secret = await ctx.decrypt(record);
    return await CredentialVersion.create(record, config, secret, Date.now(), onChange, (err) =>
      ctx.emit({ type: "token-refresh-failed", tenant: record.tenant, credential: record.credential, reason: err.message, at: new Date().toISOString() }),
    );
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
  readonly loadedAt: number;
  private secret: string;
  private oauth: OAuthTokenSource | undefined;
  /** The previous access token stays scrubbable: a call sent with it may still be answering. */
  private lastToken: string | undefined;

  private constructor(
    readonly record: SecretRecord,
    private readonly config: CredentialConfig,
    secret: string,
    now: number,
  ) {
    this.secret = secret;
    this.loadedAt = now;
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
  static async create(
    record: SecretRecord,
    config: CredentialConfig,
    secret: string,
    now: number,
    onChange: () => void,
    onTokenError: (err: Error) => void,
  ): Promise<CredentialVersion> {
    const v = new CredentialVersion(record, config, secret, now);
    if (config.type !== "oauth-client-credentials") return v;
    v.oauth = new OAuthTokenSource(
      config.oauth!,
      secret,
      (token) => {
        const m = buildMaterial(config, v.secret, token.accessToken);
        v.headers = m.headers;
        v.scrub = v.lastToken === undefined ? m.scrub : [...m.scrub, v.lastToken];
        v.lastToken = token.accessToken;
        onChange();
      },
      onTokenError,
    );
    try {
      await v.oauth.token();
    } catch (err) {
      v.drop();
      throw err;
    }
    return v;
  }

  /** Ready to inject now, or after the token it needs has been fetched. */
  ready(): CredentialVersion | Promise<CredentialVersion> {
    if (this.oauth === undefined) return this;
    const t = this.oauth.token();
    return t instanceof Promise ? t.then(() => this) : this;
  }

  get idle(): boolean {
    return this.inFlight === 0 && this.holds === 0;
  }

  /** Forgets the secret. JS strings cannot be wiped; dropping every reference lets them be collected. */
  drop(): void {
    this.oauth?.close();
    this.oauth = undefined;
    this.secret = "";
    this.lastToken = undefined;
    this.headers = undefined;
    this.env = undefined;
    this.scrub = [];
  }
}
