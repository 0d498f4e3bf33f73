/**
 * Turns a validated configuration into the runtime objects the pipeline reads: API keys indexed
 * by hash, tenants by id, each with its connections and compiled policy. Built once per publish;
 * nothing downstream re-validates. A rule that does not compile (a bad glob) is a config error
 * naming the rule, raised before anything is swapped in.
 */
import { SentinelConfigError } from "../errors.js";
import { compilePolicy, PolicyRuleError, type CompiledPolicy } from "../policy/compile-policy.js";
import { compileSafeguards, SafeguardError, type Safeguards } from "./compile-safeguards.js";
import type { ConnectionConfig, SentinelConfig, ServerConfig } from "./types.js";

export interface RuntimeTenant {
  readonly id: string;
  readonly connections: ReadonlyMap<string, ConnectionConfig>;
  readonly policy: CompiledPolicy;
  /** Content Guard, Token Guard, limits and prices; absent when the tenant configures none. */
  readonly safeguards?: Safeguards;
}

export interface ApiKeyBinding {
  readonly keyId: string;
  readonly tenant: RuntimeTenant;
}

export interface RuntimeConfig {
  readonly server: ServerConfig;
  readonly keys: ReadonlyMap<string, ApiKeyBinding>;
  readonly tenants: ReadonlyMap<string, RuntimeTenant>;
  /** The validated source, kept for export and diffing. */
  readonly source: SentinelConfig;
}

export function compileConfig(config: SentinelConfig, file: string): RuntimeConfig {
  const keys = new Map<string, ApiKeyBinding>();
  const tenants = new Map<string, RuntimeTenant>();
  config.tenants.forEach((t, ti) => {
    let policy: CompiledPolicy;
    try {
      policy = compilePolicy(t.policies ?? [], { environment: config.server.environment });
    } catch (err) {
      if (!(err instanceof PolicyRuleError)) throw err;
      throw new SentinelConfigError(file, `tenants[${ti}].policies[${err.index}].${err.path}`, err.message);
    }
    let safeguards: Safeguards | undefined;
    try {
      safeguards = compileSafeguards(t);
    } catch (err) {
      if (!(err instanceof SafeguardError)) throw err;
      throw new SentinelConfigError(file, `tenants[${ti}].${err.path}`, err.message);
    }
    const tenant: RuntimeTenant = {
      id: t.id,
      connections: new Map((t.connections ?? []).map((c) => [c.name, c])),
      policy,
      safeguards,
    };
    tenants.set(t.id, tenant);
    for (const key of t.apiKeys ?? []) if (key.revoked !== true) keys.set(key.hash, { keyId: key.id, tenant });
  });
  return { server: config.server, keys, tenants, source: config };
}
