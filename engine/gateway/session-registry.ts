/**
 * Open sessions of this gateway process, with an idle sweep: a session nobody has used for
 * `sessionIdleTimeoutMs` is ended and its upstream closed, so abandoned clients cannot pin
 * child processes or upstream sessions forever.
 */
import type { GatewaySession } from "./gateway-session.js";

export class SessionRegistry {
  private readonly sessions = new Map<string, GatewaySession>();
  private sweeper: NodeJS.Timeout | undefined;

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
  }

  get(id: string): GatewaySession | undefined {
    return this.sessions.get(id);
  }

  remove(id: string): void {
    if (this.sessions.delete(id)) this.onCountChange(this.sessions.size);
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
