/**
 * What a policy snapshot holds and how a thread turns it into evaluators: every tenant's rules
 * plus the gateway's environment, encoded as JSON bytes for the SharedArrayBuffer, and compiled
 * per thread, once per generation.
 */
import type { PolicyConfig } from "../config/types.js";
import { compilePolicy, type CompiledPolicy } from "./compile-policy.js";
import type { SnapshotBuffer } from "./snapshot.js";

export interface PolicySource {
  readonly environment?: string;
  readonly tenants: ReadonlyArray<{ readonly id: string; readonly policies: readonly PolicyConfig[] }>;
}

export const encodePolicySource = (source: PolicySource): Uint8Array => new TextEncoder().encode(JSON.stringify(source));

export function compilePolicySource(source: PolicySource): Map<string, CompiledPolicy> {
  const out = new Map<string, CompiledPolicy>();
  for (const tenant of source.tenants) out.set(tenant.id, compilePolicy(tenant.policies, { environment: source.environment }));
  return out;
}

export interface CompiledSnapshot {
  readonly generation: number;
  readonly policies: ReadonlyMap<string, CompiledPolicy>;
}

/** A thread's view of the shared snapshot, recompiled only when a publish moved the generation. */
export class PolicySnapshotReader {
  private cached: CompiledSnapshot | undefined;

  constructor(private readonly buffer: SnapshotBuffer) {}

  current(): CompiledSnapshot {
    const generation = this.buffer.generation();
    if (this.cached !== undefined && this.cached.generation === generation) return this.cached;
    const view = this.buffer.read();
    const source = JSON.parse(new TextDecoder().decode(view.bytes)) as PolicySource;
    this.cached = { generation: view.generation, policies: compilePolicySource(source) };
    return this.cached;
  }
}
