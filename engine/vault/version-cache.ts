/**
 * The decrypted versions of one credential held in memory: the active one, a rotation's next one
 * (scrubbable from the moment it is decrypted), and retired ones that calls or child processes
 * may still use, or upstreams still echo. A decrypted copy lives `ttlMs` after decryption and
 * after that only while something uses it; the scrubber covers exactly what is held.
 */
import type { CredentialVersion } from "./credential-version.js";
import { Scrubber } from "./masking.js";

export class VersionCache {
  active: CredentialVersion | undefined;
  private next: CredentialVersion | undefined;
  private retired: Array<{ version: CredentialVersion; at: number }> = [];
  private scrubberCache: Scrubber | undefined;

  constructor(private readonly ttlMs: number) {}

  fresh(v: CredentialVersion): boolean {
    return Date.now() - v.loadedAt < this.ttlMs;
  }

  /**
   * `v` becomes active; the one it replaces stays (for its calls and for scrubbing) until idle
   * and past its time. `successor`: `v` is the same secret version with a new token, and the
   * one it replaces holds a different token that must stay scrubbable like a rotated secret.
   */
  activate(v: CredentialVersion, successor = false): void {
    const old = this.active;
    if (old !== undefined && old !== v) {
      // A re-decrypt of the same version after expiry replaces an identical copy: drop it now.
      if (old.record === v.record && old.idle && !successor) old.drop();
      else this.retired.push({ version: old, at: Date.now() });
    }
    this.active = v;
    if (this.next === v) this.next = undefined;
    this.changed();
  }

  stage(v: CredentialVersion | undefined): void {
    this.next = v;
    this.changed();
  }

  /** A version's scrub values changed (a new OAuth token). */
  changed(): void {
    this.scrubberCache = undefined;
  }

  scrubber(): Scrubber {
    this.scrubberCache ??= new Scrubber([...(this.active?.scrub ?? []), ...(this.next?.scrub ?? []), ...this.retired.flatMap((r) => r.version.scrub)]);
    return this.scrubberCache;
  }

  /** Drops the copies past their time that nothing uses; the active one only when no rotation needs it. */
  sweep(rotating: boolean): void {
    const a = this.active;
    if (a !== undefined && !rotating && a.idle && !this.fresh(a)) {
      a.drop();
      this.active = undefined;
      this.changed();
    }
    const now = Date.now();
    const keep = this.retired.filter(({ version, at }) => !(version.idle && now - at >= this.ttlMs));
    if (keep.length === this.retired.length) return;
    for (const r of this.retired) if (!keep.includes(r)) r.version.drop();
    this.retired = keep;
    this.changed();
  }

  dropAll(): void {
    this.active?.drop();
    this.next?.drop();
    for (const { version } of this.retired) version.drop();
    this.active = undefined;
    this.next = undefined;
    this.retired = [];
    this.changed();
  }
}
