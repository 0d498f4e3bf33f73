/**
 * One rotation in progress, from the moment a newer version is offered until the switch: the
 * calls held meanwhile, whether the old version has drained, and the bound on the wait.
 */
import type { CredentialVersion } from "./credential-version.js";
import type { SecretRecord } from "./secret-records.js";

interface Held {
  resolve(v: CredentialVersion): void;
  readonly since: number;
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
    timeoutMs: number,
    onTimeout: (drain: Drain) => void,
  ) {
    this.inFlightAtStart = from.inFlight;
    this.drained = from.inFlight === 0;
    this.timer = setTimeout(() => onTimeout(this), timeoutMs);
  }

  /** A new call waits here until the switch (or until the bound lets it go on the old version). */
  hold(): Promise<CredentialVersion> {
    return new Promise((resolve) => this.held.push({ resolve, since: performance.now() }));
  }

  /**
   * The bound expired. Calls still on the old version finish on it (`forced`); if the new version
   * is not even ready (slow HSM or token endpoint), waiting calls go ahead on the old one.
   */
  expire(): void {
    this.drained = true;
    this.forced = this.from.inFlight > 0;
    if (this.ready === undefined) {
      this.holding = false;
      this.releaseTo(this.from);
    }
  }

  /** Lets every held call continue on `v`, each counted in flight on it; returns how many and the longest wait. */
  releaseTo(v: CredentialVersion): { held: number; maxHoldMs: number } {
    const now = performance.now();
    const out = { held: this.held.length, maxHoldMs: this.held.reduce((m, h) => Math.max(m, now - h.since), 0) };
    for (const h of this.held) {
      v.inFlight++;
      h.resolve(v);
    }
    this.held = [];
    return out;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
