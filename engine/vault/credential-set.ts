/**
 * The vault's run-time objects for one published config: a LiveCredential per tenant
 * credential (kept across publishes while what it puts on the wire is unchanged, so versions in
 * memory and rotations in progress survive a config change) and the per-connection bindings the
 * vault & scope stage reads. A publish builds the new bindings apart and swaps them in one
 * assignment, like the gateway's own config swap.
 */
import type { CredentialConfig, SentinelConfig } from "../config/types.js";
import { ConnectionBinding } from "./connection-binding.js";
import type { CredentialContext } from "./credential-version.js";
import { LiveCredential } from "./live-credential.js";
import { parseScope } from "./scopes.js";
import type { SecretRecord } from "./secret-records.js";

export class CredentialSet {
  private readonly credentials = new Map<string, LiveCredential>();
  private bindings = new Map<string, ConnectionBinding>();

  constructor(private readonly context: CredentialContext) {}

  get size(): number {
    return this.credentials.size;
  }

  values(): IterableIterator<LiveCredential> {
    return this.credentials.values();
  }

  entries(): IterableIterator<[string, LiveCredential]> {
    return this.credentials.entries();
  }

  get(tenant: string, name: string): LiveCredential | undefined {
    return this.credentials.get(`${tenant}/${name}`);
  }

  binding(tenant: string, connection: string): ConnectionBinding | undefined {
    return this.bindings.get(`${tenant}/${connection}`);
  }

  /**
   * Compiles a validated config's credentials and bindings and swaps them in. Each credential
   * is offered its newest stored version; one with none may be `bootstrap`ped from the env.
   */
  publish(config: SentinelConfig, latest: ReadonlyMap<string, SecretRecord>, bootstrap: (tenant: string, config: CredentialConfig, live: LiveCredential) => void): void {
    const seen = new Set<string>();
    const bindings = new Map<string, ConnectionBinding>();
    for (const tenant of config.tenants) {
      for (const cc of tenant.credentials ?? []) {
        const key = `${tenant.id}/${cc.name}`;
        seen.add(key);
        let live = this.credentials.get(key);
        if (live !== undefined && wireShape(live.config) !== wireShape(cc)) {
          this.retireLater(live);
          live = undefined;
        }
        if (live === undefined) {
          live = new LiveCredential(tenant.id, cc, this.context);
          this.credentials.set(key, live);
        }
        live.config = cc;
        live.grants = (cc.scopes ?? []).map(parseScope);
        const record = latest.get(key);
        if (record !== undefined) live.offer(record);
        else if (cc.bootstrapEnv !== undefined) bootstrap(tenant.id, cc, live);
      }
      for (const conn of tenant.connections ?? []) {
        if (conn.credential === undefined) continue;
        const live = this.credentials.get(`${tenant.id}/${conn.credential}`)!;
        bindings.set(`${tenant.id}/${conn.name}`, new ConnectionBinding(live, conn.requiredScopes ?? []));
      }
    }
    for (const [key, live] of this.credentials) {
      if (seen.has(key)) continue;
      this.credentials.delete(key);
      this.retireLater(live);
    }
    this.bindings = bindings;
  }

  close(): void {
    for (const live of this.credentials.values()) live.close();
    this.credentials.clear();
    this.bindings = new Map();
  }

  /** A replaced credential may still have calls finishing on it; its secrets go after the drain window. */
  private retireLater(live: LiveCredential): void {
    setTimeout(() => live.close(), this.context.drainTimeoutMs + 1_000).unref();
  }
}

/** The fields that decide what goes on the wire; a change means a new LiveCredential. */
function wireShape(c: CredentialConfig): string {
  return JSON.stringify([c.type, c.header, c.template, c.envVar, c.username, c.oauth]);
}
