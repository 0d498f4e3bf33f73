/**
 * One version switch in progress, from the moment it begins until the switch: the calls held
 * meanwhile, whether the old version has drained, and the bound on the wait. A switch is a
 * rotation (a newer secret version) or, for an OAuth token given to stdio children, a token
 * refresh (the same secret version with a new access token).
 */
import type { CredentialVersion } from "./credential-version.js";
import type { SecretRecord } from "./secret-records.js";

interface Held {
  resolve(v: CredentialVersion): void;
  reject(err: Error): void;
  readonly since: number;
  /** A call (counted in flight on the version it gets) or a child about to spawn (not counted). */
  readonly call: boolean;
}

export class Drain {
  readonly startedAt = performance.now();
  readonly inFlightAtStart: number;
  /** The new version, once decrypted (and for OAuth, once it has a token). */
  ready: CredentialVersion | undefined;
  drained: boolean;
  forced = false;
  /** False once the bound expired before the new version was ready: calls stop waiting. */
  holding = true;
  private held: Held[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly from: CredentialVersion,
    readonly to: SecretRecord,
    /** True for a token refresh: `to` is `from`'s own record. */
    readonly refresh: boolean,
    timeoutMs: number,
    onTimeout: (drain: Drain) => void,
  ) {
    this.inFlightAtStart = from.inFlight;
    this.drained = from.inFlight === 0;
    this.timer = setTimeout(() => onTimeout(this), timeoutMs);
  }

  /** A new call waits here until the switch (or until the bound lets it go on the old version). */
  hold(): Promise<CredentialVersion> {
    return new Promise((resolve, reject) => this.held.push({ resolve, reject, since: performance.now(), call: true }));
  }

  /** The version a child spawned now should run with: the one the switch ends on. */
  next(): Promise<CredentialVersion> {
    return new Promise((resolve, reject) => this.held.push({ resolve, reject, since: performance.now(), call: false }));
  }

  /**
   * The bound expired. Calls still on the old version finish on it (`forced`); if the new version
   * is not even ready (slow HSM or token endpoint), waiting calls go ahead on the old one, or,
   * when the old one cannot serve them (`failWith`: its token is past use), they fail.
   */
  expire(failWith?: Error): void {
    this.drained = true;
    this.forced = this.from.inFlight > 0;
    if (this.ready !== undefined) return;
    this.holding = false;
    if (failWith === undefined) this.releaseTo(this.from);
    else this.fail(failWith);
  }

  /** Lets every held call continue on `v`, each counted in flight on it; returns how many and the longest wait. */
  releaseTo(v: CredentialVersion): { held: number; maxHoldMs: number } {
    const now = performance.now();
    const calls = this.held.filter((h) => h.call);
    const out = { held: calls.length, maxHoldMs: calls.reduce((m, h) => Math.max(m, now - h.since), 0) };
    for (const h of this.held) {
      if (h.call) v.inFlight++;
      h.resolve(v);
    }
    this.held = [];
    return out;
  }

  /** Refuses every held call: there is no version they could be injected with. */
  fail(err: Error): void {
    for (const h of this.held) h.reject(err);
    this.held = [];
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
