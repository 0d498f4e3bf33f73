/**
 * Turns a call's trace into its audit record, on the flusher (never on the call's path).
 */
import type { CallTrace } from "./call-trace.js";
import { storedArguments, type ArgumentsMode, type UnsealedRecord } from "./record.js";

const us = (v: number): number | undefined => (v < 0 ? undefined : Math.round(v));

/** `now`: performance.now() when the flusher took the batch, for the audit stage's timing. */
export function callRecord(t: CallTrace, now: number, mode: ArgumentsMode): UnsealedRecord {
  return {
    v: 1,
    kind: "call",
    id: t.traceId,
    time: new Date(t.startedAt).toISOString(),
    tenant: t.tenant,
    keyId: t.keyId,
    user: t.user,
    role: t.role,
    metadata: t.metadata,
    session: t.session,
    connection: t.connection,
    method: t.method,
    target: t.target,
    name: t.name,
    decision: t.decision,
    ruleId: t.ruleId,
    reasons: t.reason === undefined ? undefined : [t.reason],
    outcome: t.outcome,
    // Members in canonical (sorted) order, so encoding need not sort them.
    timings: {
      audit: Math.round((now - t.emittedAt) * 1000),
      forward: us(t.forwardUs),
      policy: us(t.policyUs),
      resolve: us(t.resolveUs),
      total: Math.round(t.totalUs),
      vault: us(t.vaultUs),
    },
    upstream: t.upstream,
    arguments: storedArguments(t.args, mode),
    findings: t.findings,
    credential: t.credential,
    tokens: t.tokens,
    cost: t.costUsd === undefined ? undefined : { usd: t.costUsd },
  };
}
