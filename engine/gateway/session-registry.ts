/**
 * Open sessions of this gateway process, with an idle sweep: a session nobody has used for
 * `sessionIdleTimeoutMs` is ended and its upstream closed, so abandoned clients cannot pin
 * child processes or upstream sessions forever.
 */
import type { GatewaySession } from "./gateway-session.js";

/** A session started or ended; what the admin API's session subscription streams. */
export interface SessionChange {
  readonly type: "started" | "ended";
  readonly session: GatewaySession;
}

export class SessionRegistry {
  private readonly sessions = new Map<string, GatewaySession>();
  private sweeper: NodeJS.Timeout | undefined;
  private watchers: ReadonlyArray<(change: SessionChange) => void> = [];

  constructor(private readonly onCountChange: (n: number) => void) {}

  get size(): number {
    return this.sessions.size;
  }

  add(session: GatewaySession): void {
    this.sessions.set(session.id, session);
    session.onUpstreamLost = () => {
      this.remove(session.id);
      void session.end();
    };
    this.onCountChange(this.sessions.size);
    this.notify("started", session);
  }

  get(id: string): GatewaySession | undefined {
    return this.sessions.get(id);
  }

  values(): IterableIterator<GatewaySession> {
    return this.sessions.values();
  }

  remove(id: string): void {
    const session = this.sessions.get(id);
    if (session === undefined || !this.sessions.delete(id)) return;
    this.onCountChange(this.sessions.size);
    this.notify("ended", session);
  }

  /** Calls `fn` on every session start and end; returns the function that stops it. */
  watch(fn: (change: SessionChange) => void): () => void {
    this.watchers = [...this.watchers, fn];
    return () => (this.watchers = this.watchers.filter((w) => w !== fn));
  }

  private notify(type: SessionChange["type"], session: GatewaySession): void {
    // Copy-on-write list, so a watcher may stop watching from inside its callback.
    for (const fn of this.watchers) fn({ type, session });
  }

  startSweeping(idleMs: () => number): void {
    this.sweeper = setInterval(() => {
      const cutoff = Date.now() - idleMs();
      for (const session of this.sessions.values()) {
        if (session.lastActive < cutoff && session.inFlight === 0) {
          this.remove(session.id);
          void session.end();
        }
      }
    }, 10_000);
    this.sweeper.unref();
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.onCountChange(0);
    await Promise.all(all.map((s) => s.end()));
  }
}
