/**
 * How a credential moves from one version to the next without failing a call: a rotation (a
 * newer secret version) or, for an OAuth token given to stdio children, a token refresh (the
 * same secret version with a new access token, which the children can only get by restarting).
 *
 * Step by step. The switch begins: new calls are held, calls already admitted keep their
 * version object (the lease) and finish on it, and the next version is prepared in parallel
 * (decrypted, its first token fetched; for a refresh ahead of expiry the token is fetched
 * before the switch begins, so calls are held only for the drain). When the old version's last
 * call releases its lease, or `drainTimeoutMs` passes, the active version flips and the held
 * calls continue on the new one; stdio upstreams restart their children with the new
 * environment from the switch listeners. If the next version cannot be prepared the switch is
 * abandoned and held calls go on with the old version, unless the old one's token is already
 * past use, in which case they fail as unavailable rather than reach the upstream with it.
 */
import { CredentialUnavailableError, unavailable, type CredentialContext, type CredentialVersion } from "./credential-version.js";
import { Drain } from "./drain.js";
import type { SecretRecord } from "./secret-records.js";
import type { VaultEvent } from "./vault-events.js";
import type { VersionCache } from "./version-cache.js";

/** What the switch needs from its credential. */
export interface SwitchOwner {
  readonly tenant: string;
  readonly name: string;
  readonly cache: VersionCache;
  readonly ctx: CredentialContext;
  /** Decrypts a record into a version (for OAuth, with its first token). */
  open(record: SecretRecord): Promise<CredentialVersion>;
  /** The switch is done: `record` is the active one now. */
  switched(record: SecretRecord): void;
  /** The newest record offered, which may already be past the one just switched to. */
  latest(): SecretRecord | undefined;
}

export class VersionSwitch {
  /** The switch in progress, if any. */
  drain: Drain | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly owner: SwitchOwner) {}

  onSwitch(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Rotates from the active version to `record`. */
  rotate(record: SecretRecord): void {
    const from = this.owner.cache.active!;
    const d = this.begin(from, record, false);
    this.owner.open(record).then(
      (v) => {
        if (this.drain !== d) return v.drop();
        this.prepared(d, v);
      },
      (err: Error) => {
        if (this.drain !== d) return;
        this.abandon(d);
        d.releaseTo(from);
        const reason = err instanceof CredentialUnavailableError ? err.detail : err.message;
        this.emitNow({ type: "rotation-failed", from: from.version, to: record.version, reason });
      },
    );
  }

  /**
   * Replaces `from`'s token given to children. `expired`: the token is already past use, so new
   * calls wait from now on; otherwise (a refresh ahead of expiry) the token is fetched first.
   */
  refresh(from: CredentialVersion, expired: boolean): void {
    if (this.drain !== undefined) return;
    if (!expired) {
      from.nextToken(true).then(
        (token) => {
          if (this.drain !== undefined || this.owner.cache.active !== from) return;
          this.prepared(this.begin(from, from.record, true), from.successor(token));
        },
        (err: Error) => this.emitNow({ type: "token-refresh-failed", reason: err.message }),
      );
      return;
    }
    const d = this.begin(from, from.record, true);
    from.nextToken(false).then(
      (token) => {
        if (this.drain === d) this.prepared(d, from.successor(token));
      },
      (err: Error) => {
        if (this.drain !== d) return;
        this.abandon(d);
        d.fail(this.report(unavailable(this.owner.name, err, from.version)));
      },
    );
  }

  /** A call on `v` finished; the switch may be waiting for exactly that. */
  released(v: CredentialVersion): void {
    const d = this.drain;
    if (d !== undefined && v === d.from && v.inFlight === 0) {
      d.drained = true;
      this.maybeSwitch();
    }
  }

  /** A version replaced while nothing was decrypted: nothing to drain, only to announce. */
  replacedIdle(from: number, to: number): void {
    this.emitNow({ type: "rotated", from, to, drainMs: 0, inFlightAtStart: 0, held: 0, maxHoldMs: 0, forced: false });
    this.notify();
  }

  /** Logs (and audits) why the credential failed; the agent gets only the error's message. */
  report(err: CredentialUnavailableError): CredentialUnavailableError {
    this.emitNow({ type: "credential-unavailable", reason: err.detail });
    return err;
  }

  close(): void {
    const d = this.drain;
    if (d !== undefined) {
      d.stop();
      d.releaseTo(d.from);
      this.drain = undefined;
    }
    this.listeners.clear();
  }

  private begin(from: CredentialVersion, to: SecretRecord, refresh: boolean): Drain {
    const d = new Drain(from, to, refresh, this.owner.ctx.drainTimeoutMs, (timedOut) => {
      if (this.drain !== timedOut) return;
      // Calls may go on with the old version only while its token is usable.
      const cannot = timedOut.ready === undefined && !from.usable() ? this.report(unavailable(this.owner.name, new Error("no new access token within drainTimeoutMs"), from.version)) : undefined;
      if (cannot !== undefined) this.abandon(timedOut);
      timedOut.expire(cannot);
      this.maybeSwitch();
    });
    this.drain = d;
    return d;
  }

  private prepared(d: Drain, next: CredentialVersion): void {
    d.ready = next;
    this.owner.cache.stage(next);
    this.maybeSwitch();
  }

  private abandon(d: Drain): void {
    d.stop();
    this.drain = undefined;
    this.owner.cache.stage(undefined);
  }

  private maybeSwitch(): void {
    const d = this.drain;
    if (d === undefined || d.ready === undefined || !d.drained) return;
    d.stop();
    const next = d.ready;
    this.owner.cache.activate(next, d.refresh);
    this.owner.switched(d.to);
    this.drain = undefined;
    const { held, maxHoldMs } = d.releaseTo(next);
    const drainMs = performance.now() - d.startedAt;
    const stats = { drainMs, inFlightAtStart: d.inFlightAtStart, held, maxHoldMs, forced: d.forced };
    if (d.refresh) this.emitNow({ type: "token-refreshed", version: next.version, ...stats });
    else this.emitNow({ type: "rotated", from: d.from.version, to: next.version, ...stats });
    this.notify();
    const latest = this.owner.latest();
    if (latest !== undefined && latest.version > next.version) this.rotate(latest);
  }

  /**
   * Listeners run synchronously, before the held calls resume (they resume on a later
   * microtask), so a stdio upstream has begun restarting its children before they reach it.
   */
  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  private emitNow(event: DistributiveOmit<VaultEventBody, "tenant" | "credential" | "at">): void {
    this.owner.ctx.emit({ ...event, tenant: this.owner.tenant, credential: this.owner.name, at: new Date().toISOString() } as VaultEventBody);
  }
}

type VaultEventBody = Extract<VaultEvent, { tenant: string }>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
