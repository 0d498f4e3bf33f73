/** The serialisable form of a PolicyInput, as it crosses to a pool worker. */
import type { PolicyInput } from "./compile-policy.js";

/** A PolicyInput with its two non-cloneable members (a Set and a function) as plain data. */
export type PoolTask = Omit<PolicyInput, "findings" | "usage"> & {
  readonly findings?: readonly string[];
  readonly usage?: Readonly<Record<string, { readonly used: number; readonly limit: number }>>;
};

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
