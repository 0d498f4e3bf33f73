/**
 * What the pipeline learns about one call, collected as it runs: identity, decision, outcome and
 * the time each stage took. It is the only allocation audit adds to the hot path: the pipeline
 * fills it in place and hands it to `AuditLog.emitCall`, and the flusher turns it into a record
 * later, off the call's path. Every field is set in the constructor so the object keeps one shape.
 */
import type { AuditDecision, AuditOutcome, GuardFinding } from "./record.js";

export class CallTrace {
  /** Wall-clock start, for the record's time. */
  readonly startedAt = Date.now();
  tenant: string | undefined = undefined;
  keyId: string | undefined = undefined;
  user: string | undefined = undefined;
  role: string | undefined = undefined;
  /** The session's stated metadata (role included), so a replay can judge metadata conditions. */
  metadata: Readonly<Record<string, unknown>> | undefined = undefined;
  session: string | undefined = undefined;
  connection: string | undefined = undefined;
  method: string | undefined = undefined;
  target: string | undefined = undefined;
  name: string | undefined = undefined;
  decision: AuditDecision = "pass";
  ruleId: string | undefined = undefined;
  reason: string | undefined = undefined;
  /** The call's arguments as received; stored per `audit.arguments` when the record is built. */
  args: unknown = undefined;
  upstream: string | undefined = undefined;
  outcome: AuditOutcome | undefined = undefined;
  /** Stage durations in microseconds; -1 when the stage did not run. */
  resolveUs = -1;
  policyUs = -1;
  vaultUs = -1;
  forwardUs = -1;
  totalUs = -1;
  /** performance.now() at emit, for the audit stage's own timing. */
  emittedAt = 0;
  // Filled by later stages (guards, vault, token accounting); optional in the record.
  findings: GuardFinding[] | undefined = undefined;
  credential: { id: string; version: number } | undefined = undefined;
  /** Token counts, only those that were made: the guard stage counts only what a cap, limit or rule needs. */
  tokens: { in?: number; out?: number } | undefined = undefined;
  costUsd: number | undefined = undefined;

  constructor(
    readonly traceId: string,
    /** performance.now() when the request arrived. */
    readonly t0: number,
  ) {}
}
