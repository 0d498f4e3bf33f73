/**
 * One tenant credential at run time: which secret version is active, the decrypted copy (kept
 * only `cacheTtlMs`), and the leases calls and child processes take on it. How it moves from
 * one version to the next (rotation, and token refresh for stdio children) without failing a
 * call is in version-switch.ts.
 */
import type { CredentialConfig } from "../config/types.js";
import type { CallCredential, UpstreamCredential } from "../upstream/upstream.js";
import { CredentialUnavailableError, openVersion, unavailable, type CredentialContext, type CredentialVersion } from "./credential-version.js";
import type { Scrubber } from "./masking.js";
import type { Scope } from "./scopes.js";
import type { SecretRecord } from "./secret-records.js";
import { VersionCache } from "./version-cache.js";
import { VersionSwitch } from "./version-switch.js";

let serials = 0;

export class LiveCredential implements UpstreamCredential {
  /** Distinguishes a replaced credential from its predecessor of the same name. */
  readonly serial = ++serials;
  grants: readonly Scope[] = [];
  readonly cache: VersionCache;
  private record: SecretRecord | undefined;
  private latest: SecretRecord | undefined;
  private loading: Promise<CredentialVersion> | undefined;
  private readonly switcher: VersionSwitch;
  private pendingSecret: Promise<unknown> | undefined;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly tenant: string,
    public config: CredentialConfig,
    readonly ctx: CredentialContext,
  ) {
    this.cache = new VersionCache(ctx.cacheTtlMs);
    const name = () => this.config.name;
    this.switcher = new VersionSwitch({
      tenant,
      get name() {
        return name();
      },
      cache: this.cache,
      ctx,
      open: (record) => this.open(record),
      switched: (record) => (this.record = record),
      latest: () => this.latest,
    });
    this.sweeper = setInterval(() => this.cache.sweep(this.switcher.drain !== undefined), Math.min(ctx.cacheTtlMs, 30_000));
    this.sweeper.unref();
  }

  get name(): string {
    return this.config.name;
  }

  get activeRecord(): SecretRecord | undefined {
    return this.record;
  }

  /** The vault stage's lease: the version this call will be injected with. */
  acquire(): CredentialVersion | Promise<CredentialVersion> {
    const d = this.switcher.drain;
    if (d !== undefined && d.holding) return d.hold();
    const a = this.cache.active;
    // An expired copy that calls are still using stays in use: dropping it would not erase it.
    if (a !== undefined && (this.cache.fresh(a) || !a.idle)) {
      if (!a.usable()) return this.afterRefresh(a, (drain) => drain.hold());
      a.inFlight++;
      const ready = a.ready();
      if (!(ready instanceof Promise)) return ready;
      return ready.catch((err: Error) => {
        this.release(a);
        throw this.switcher.report(unavailable(this.name, err));
      });
    }
    return this.load().then(() => this.acquire());
  }

  release(lease: CallCredential): void {
    const v = lease as CredentialVersion;
    v.inFlight--;
    this.switcher.released(v);
  }

  /** The version a child spawned now gets in its environment (not counted as a call). */
  current(): CredentialVersion | Promise<CredentialVersion> {
    const a = this.cache.active;
    if (a === undefined) return this.load().then(() => this.current());
    if (!a.usable()) return this.afterRefresh(a, (drain) => drain.next());
    return a.ready();
  }

  hold(version: CallCredential): void {
    (version as CredentialVersion).holds++;
  }

  unhold(version: CallCredential): void {
    (version as CredentialVersion).holds--;
  }

  onSwitch(listener: () => void): () => void {
    return this.switcher.onSwitch(listener);
  }

  scrubber(): Scrubber {
    return this.cache.scrubber();
  }

  scrubText(text: string): string {
    return this.scrubber().text(text);
  }

  /** A secret for this credential is on its way (bootstrap from env); calls wait for it. */
  expect(pending: Promise<unknown>): void {
    this.pendingSecret = pending.finally(() => {
      if (this.pendingSecret === pending) this.pendingSecret = undefined;
    });
  }

  /** The newest version in the vault file; a newer one than the active starts a rotation. */
  offer(record: SecretRecord): void {
    if (this.latest !== undefined && record.version <= this.latest.version) return;
    this.latest = record;
    if (this.switcher.drain !== undefined) return;
    if (this.cache.active === undefined) {
      // Nothing decrypted, so nothing in flight and no child holding it: switch at once.
      const from = this.record;
      this.record = record;
      if (from !== undefined) this.switcher.replacedIdle(from.version, record.version);
      return;
    }
    this.switcher.rotate(record);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.switcher.close();
    this.cache.dropAll();
  }

  /**
   * The token in `a` (given to children) is past use: new calls and spawns wait for the
   * refresh's switch. A switch that already gave up waiting (the token endpoint is slower than
   * `drainTimeoutMs`) leaves nothing to wait for.
   */
  private afterRefresh<T>(a: CredentialVersion, wait: (drain: NonNullable<VersionSwitch["drain"]>) => Promise<T>): Promise<T> {
    this.switcher.refresh(a, true);
    const d = this.switcher.drain;
    if (d !== undefined && d.holding) return wait(d);
    return Promise.reject(this.switcher.report(unavailable(this.name, new Error("its access token expired and no new one has arrived yet"), a.version)));
  }

  private open(record: SecretRecord): Promise<CredentialVersion> {
    return openVersion(record, this.config, this.ctx, {
      onChange: () => this.cache.changed(),
      onTokenError: (err) => this.ctx.emit({ type: "token-refresh-failed", tenant: this.tenant, credential: this.name, reason: err.message, at: new Date().toISOString() }),
      onRefreshDue: () => {
        const a = this.cache.active;
        if (a !== undefined && a.tokenInEnv) this.switcher.refresh(a, false);
      },
    });
  }

  private load(): Promise<CredentialVersion> {
    if (this.loading !== undefined) return this.loading;
    const record = this.record;
    if (record === undefined) {
      if (this.pendingSecret !== undefined) return this.pendingSecret.then(() => this.load());
      return Promise.reject(
        new CredentialUnavailableError(
          `credential ${this.name} has no secret in the vault; store one with \`sentinel vault put --tenant ${this.tenant} --credential ${this.name} --secret-file FILE\``,
        ),
      );
    }
    const loading = this.open(record).then(
      (v) => {
        this.loading = undefined;
        if (this.record !== record) {
          v.drop();
          return this.load();
        }
        this.cache.activate(v);
        return v;
      },
      (err: Error) => {
        this.loading = undefined;
        throw this.switcher.report(unavailable(this.name, err, record.version));
      },
    );
    this.loading = loading;
    return loading;
  }
}
