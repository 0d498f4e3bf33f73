/**
 * The audit seam of the pipeline: a DownstreamExchange that records the call when its answer
 * goes down, then hands the answer to the real exchange once the record is acknowledged (per
 * `audit.durability`). Recording at the answer, not after `session.request` returns, is what
 * lets the record carry the outcome and the forward time, and holding the answer until the
 * record is written is what makes "the client saw an answer" imply "the record survives a
 * kill -9". The emit itself is an array push; only the release of the answer waits.
 *
 * Every message a client sends is recorded this way: requests, notifications (their 202 is the
 * answer) and responses to server requests, and the HTTP requests without a JSON-RPC message:
 * the GET stream's opening and the DELETE that ends a session. Streamed (SSE) answers are held
 * like JSON ones, from the event that answers the call on (audited-stream.ts).
 */
import { performance } from "node:perf_hooks";
import type { Refusal } from "../errors.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { Metadata } from "../auth/identity.js";
import type { CallTrace } from "../audit/call-trace.js";
import { storedArguments, type AuditOutcome } from "../audit/record.js";
import type { JsonRpcId, JsonRpcMessage } from "../mcp/jsonrpc.js";
import { AuditedStream, outcomeOf } from "./audited-stream.js";

// Its home was this file; kept importable from here for the pipelines that use it.
export { outcomeOf };
import type { DownstreamExchange, DownstreamStream } from "./downstream.js";
import type { GatewaySession } from "./gateway-session.js";
import type { Verdict } from "./govern.js";
import type { Inspection } from "./guard-stage.js";

/** Records the call as answered now and runs `send` once the record is acknowledged. */
export function recordAndRelease(audit: AuditLog, trace: CallTrace, outcome: AuditOutcome, send: () => void): void {
  const now = performance.now();
  if (trace.forwardUs >= 0) trace.forwardUs = (now - trace.forwardUs) * 1000;
  trace.totalUs = (now - trace.t0) * 1000;
  trace.outcome = outcome;
  audit.emitCall(trace);
  audit.whenDurable(send);
}

export class AuditedExchange implements DownstreamExchange {
  private recorded = false;

  constructor(
    private readonly inner: DownstreamExchange,
    private readonly audit: AuditLog,
    /** `trace.forwardUs` holds the forward stage's start (performance.now()) until the answer. */
    private readonly trace: CallTrace,
    /**
     * The request whose JSON-RPC response ends the call if it is answered with a stream;
     * undefined when a stream is itself the answer (GET) or none is expected (notifications).
     */
    private readonly requestId: JsonRpcId | undefined,
  ) {}

  get aborted(): boolean {
    return this.inner.aborted;
  }

  onAbort(listener: () => void): void {
    this.inner.onAbort(listener);
  }

  setHeader(name: string, value: string): void {
    this.inner.setHeader(name, value);
  }

  sendJson(status: number, body: unknown): void {
    this.answer(outcomeOf(body, status), () => this.inner.sendJson(status, body));
  }

  sendText(status: number, body: string, contentType: string): void {
    this.answer({ status: status < 400 ? "ok" : "error", code: status < 400 ? undefined : `http:${status}`, httpStatus: status }, () => this.inner.sendText(status, body, contentType));
  }

  sendEmpty(status: number): void {
    this.answer({ status: status < 400 ? "ok" : "error", httpStatus: status }, () => this.inner.sendEmpty(status));
  }

  openStream(): DownstreamStream {
    const stream = new AuditedStream(() => this.inner.openStream(), this.requestId, (outcome, release) => this.answer(outcome, release));
    // A stream that answers nothing in particular (GET) is the answer: recorded as it opens.
    if (this.requestId === undefined) this.answer({ httpStatus: 200, status: "ok" }, () => stream.release());
    return stream;
  }

  private answer(outcome: AuditOutcome, send: () => void): void {
    if (this.recorded) return send();
    this.recorded = true;
    recordAndRelease(this.audit, this.trace, outcome, send);
  }
}

/** Identity from the session, fixed at initialize. */
export function noteSession(trace: CallTrace, session: GatewaySession): void {
  trace.session = session.id;
  noteCaller(trace, session.owner.identity.user, session.owner.identity.metadata);
}

/** Who called: the stated user, role and metadata (an LLM call has them without a session). */
export function noteCaller(trace: CallTrace, user: string | undefined, metadata: Metadata): void {
  trace.user = user;
  const role = metadata.role;
  trace.role = typeof role === "string" ? role : undefined;
  trace.metadata = metadata;
}

/**
 * The policy stage's decision, the arguments it judged (stored per `audit.arguments`), and the
 * guard's findings (type and path; never the matched text).
 */
export function notePolicy(trace: CallTrace, verdict: Verdict | undefined, message: JsonRpcMessage, policyUs: number, inspection: Inspection | undefined): void {
  trace.policyUs = policyUs;
  if ("method" in message) trace.args = message.params?.arguments;
  // Only counts Token Guard made anyway (a cap, limit or rule needed them); the result guard adds `out`.
  if (inspection?.tokensIn !== undefined) trace.tokens = { in: inspection.tokensIn };
  if (inspection !== undefined && inspection.findings.length > 0) trace.findings = inspection.findings.map((f) => ({ type: f.id, path: f.path }));
  const d = verdict?.decision;
  if (d === undefined) return;
  trace.decision = d.action;
  trace.ruleId = d.ruleId;
  trace.reason = d.reason;
  trace.target = verdict!.target;
  trace.name = verdict!.name;
}

/** Records a refusal (a decision of its own unless policy made it) and releases it once acknowledged. */
export function auditRefusal(audit: AuditLog, trace: CallTrace, refusal: Refusal, status: number, body: unknown, send: () => void): void {
  noteRefusal(trace, refusal);
  recordAndRelease(audit, trace, outcomeOf(body, status), send);
}

/** A refusal's decision and reason on the record. */
export function noteRefusal(trace: CallTrace, refusal: Refusal): void {
  if (trace.decision === "pass") trace.decision = "refuse";
  // Arguments Content Guard refused hold what it found: never store their values, whatever the mode.
  if (refusal.code === "SENTINEL_CONTENT_BLOCKED") trace.args = storedArguments(trace.args, "redacted");
  trace.reason = refusal.reason;
  if (refusal.ruleId !== undefined) trace.ruleId = refusal.ruleId;
}
