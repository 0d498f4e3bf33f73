/**
 * One tenant credential at run time: which secret version is active, the decrypted copy (kept
 * only `cacheTtlMs`), the calls in flight on each version, and rotation with drain.
 *
 * Rotation, step by step. A newer version is offered (CLI, schedule, API); from that moment
 * new calls are held, calls already admitted keep their version object (the lease) and finish
 * on it, and the new version is decrypted (and for OAuth its first token fetched) in parallel.
 * When the old version's last call releases its lease, or `drainTimeoutMs` passes, the active
 * version flips and the held calls continue on the new one; stdio upstreams restart their
 * children with the new environment from the switch listeners. If the new version cannot be
 * decrypted or refused by the token endpoint, the rotation is abandoned and held calls go on
 * with the old version: no call fails because of a rotation.
 */
import type { CredentialConfig } from "../config/types.js";
import type { CallCredential, UpstreamCredential } from "../upstream/upstream.js";
import { CredentialUnavailableError, openVersion, unavailable, type CredentialContext, type CredentialVersion } from "./credential-version.js";
import { Drain } from "./drain.js";
import type { Scrubber } from "./masking.js";
import type { Scope } from "./scopes.js";
import type { SecretRecord } from "./secret-records.js";
import { VersionCache } from "./version-cache.js";

let serials = 0;

export class LiveCredential implements UpstreamCredential {
  /** Distinguishes a replaced credential from its predecessor of the same name. */
  readonly serial = ++serials;
  grants: readonly Scope[] = [];
  private record: SecretRecord | undefined;
  private latest: SecretRecord | undefined;
  private readonly cache: VersionCache;
  private loading: Promise<CredentialVersion> | undefined;
  private rotation: Drain | undefined;
  private readonly switchListeners = new Set<() => void>();
  private pendingSecret: Promise<unknown> | undefined;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly tenant: string,
    public config: CredentialConfig,
    private readonly ctx: CredentialContext,
  ) {
    this.cache = new VersionCache(ctx.cacheTtlMs);
    this.sweeper = setInterval(() => this.cache.sweep(this.rotation !== undefined), Math.min(ctx.cacheTtlMs, 30_000));
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
    const r = this.rotation;
    if (r !== undefined && r.holding) return r.hold();
    const a = this.cache.active;
    // An expired copy that calls are still using stays in use: dropping it would not erase it.
    if (a !== undefined && (this.cache.fresh(a) || !a.idle)) {
      a.inFlight++;
      const ready = a.ready();
      if (!(ready instanceof Promise)) return ready;
      return ready.catch((err: Error) => {
        this.release(a);
        throw this.report(unavailable(this.name, err));
      });
    }
    return this.load().then(() => this.acquire());
  }

  release(lease: CallCredential): void {
    const v = lease as CredentialVersion;
    v.inFlight--;
    const r = this.rotation;
    if (r !== undefined && v === r.from && v.inFlight === 0) {
      r.drained = true;
      this.maybeSwitch();
    }
  }

  current(): CredentialVersion | Promise<CredentialVersion> {
    const a = this.cache.active;
    if (a !== undefined) return a.ready();
    return this.load().then((v) => v.ready());
  }

  hold(version: CallCredential): void {
    (version as CredentialVersion).holds++;
  }

  unhold(version: CallCredential): void {
    (version as CredentialVersion).holds--;
  }

  onSwitch(listener: () => void): () => void {
    this.switchListeners.add(listener);
    return () => this.switchListeners.delete(listener);
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
    if (this.rotation !== undefined) return;
    if (this.cache.active === undefined) {
      // Nothing decrypted, so nothing in flight and no child holding it: switch at once.
      const from = this.record;
      this.record = record;
      if (from !== undefined) this.announce(from.version, record.version, performance.now(), 0, 0, 0, false);
      return;
    }
    this.startRotation(record);
  }

  close(): void {
    clearInterval(this.sweeper);
    const r = this.rotation;
    if (r !== undefined) {
      r.stop();
      r.releaseTo(r.from);
      this.rotation = undefined;
    }
    this.cache.dropAll();
    this.switchListeners.clear();
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
    const loading = openVersion(record, this.config, this.ctx, () => this.cache.changed()).then(
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
        throw this.report(unavailable(this.name, err, record.version));
      },
    );
    this.loading = loading;
    return loading;
  }

  private startRotation(record: SecretRecord): void {
    const from = this.cache.active!;
    const r = new Drain(from, record, this.ctx.drainTimeoutMs, (d) => {
      if (this.rotation !== d) return;
      d.expire();
      this.maybeSwitch();
    });
    this.rotation = r;
    openVersion(record, this.config, this.ctx, () => this.cache.changed()).then(
      (v) => {
        if (this.rotation !== r) return v.drop();
        r.ready = v;
        this.cache.stage(v);
        this.maybeSwitch();
      },
      (err: Error) => {
        if (this.rotation !== r) return;
        r.stop();
        this.rotation = undefined;
        this.cache.stage(undefined);
        r.releaseTo(from);
        const reason = err instanceof CredentialUnavailableError ? err.detail : err.message;
        this.ctx.emit({ type: "rotation-failed", tenant: this.tenant, credential: this.name, from: from.version, to: record.version, reason, at: new Date().toISOString() });
      },
    );
  }

  private maybeSwitch(): void {
    const r = this.rotation;
    if (r === undefined || r.ready === undefined || !r.drained) return;
    r.stop();
    const next = r.ready;
    this.cache.activate(next);
    this.record = r.to;
    this.rotation = undefined;
    const { held, maxHoldMs } = r.releaseTo(next);
    this.announce(r.from.version, next.version, r.startedAt, r.inFlightAtStart, held, maxHoldMs, r.forced);
    if (this.latest !== undefined && this.latest.version > next.version) this.startRotation(this.latest);
  }

  /** Logs (and audits) why the credential failed; the agent gets only the error's message. */
  private report(err: CredentialUnavailableError): CredentialUnavailableError {
    this.ctx.emit({ type: "credential-unavailable", tenant: this.tenant, credential: this.name, reason: err.detail, at: new Date().toISOString() });
    return err;
  }

  private announce(from: number, to: number, startedAt: number, inFlightAtStart: number, held: number, maxHoldMs: number, forced: boolean): void {
    const drainMs = performance.now() - startedAt;
    this.ctx.emit({ type: "rotated", tenant: this.tenant, credential: this.name, from, to, drainMs, inFlightAtStart, held, maxHoldMs, forced, at: new Date().toISOString() });
    // Listeners run synchronously, before the held calls resume (they resume on a later
    // microtask), so a stdio upstream has begun restarting its child before they reach it.
    for (const listener of this.switchListeners) listener();
  }
}
