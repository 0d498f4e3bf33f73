/** The serialisable form of a PolicyInput, as it crosses to a pool worker. */
import type { Metadata } from "../auth/identity.js";
import type { PolicyTarget } from "../config/types.js";
import type { PolicyInput } from "./compile-policy.js";

export interface PoolTask {
  readonly tenant: string;
  readonly user: string | undefined;
  readonly metadata: Metadata;
  readonly connection: string;
  readonly target: PolicyTarget;
  readonly name: string;
  readonly sourceIp?: string;
  readonly args?: Readonly<Record<string, unknown>>;
  readonly findings?: readonly string[];
  readonly tokens?: { readonly in: number; readonly out: number };
  readonly usage?: Readonly<Record<string, { readonly used: number; readonly limit: number }>>;
  readonly now?: number;
}

export function toPoolTask(input: PolicyInput, usageIds: readonly string[] = []): PoolTask {
  const usage: Record<string, { used: number; limit: number }> = {};
  for (const id of usageIds) {
    const u = input.usage?.(id);
    if (u !== undefined) usage[id] = { used: u.used, limit: u.limit };
  }
  return {
    tenant: input.tenant,
    user: input.user,
    metadata: input.metadata,
    connection: input.connection,
    target: input.target,
    name: input.name,
    sourceIp: input.sourceIp,
    args: input.args,
    findings: input.findings === undefined ? undefined : [...input.findings],
    tokens: input.tokens,
    usage,
    now: input.now ?? Date.now(),
  };
}

export function toPolicyInput(task: PoolTask): PolicyInput {
  const usage = task.usage ?? {};
  return {
    ...task,
    findings: task.findings === undefined ? undefined : new Set(task.findings),
    usage: (id) => usage[id],
  };
}
