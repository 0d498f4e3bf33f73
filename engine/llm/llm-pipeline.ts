/**
 * The call pipeline for `/llm/<connection>/v1/<endpoint>`, written as plain code like the MCP
 * pipeline (engine/gateway/pipeline.ts): each stage is called by name, in order, and each
 * ordering constraint says why it sits where it does. The answer half is llm-answer-stage.ts.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { HEADERS } from "../../sdk/ts/src/wire.js";
import { authenticate } from "../gateway/authenticate.js";
import { readIdentity } from "../auth/identity.js";
import { CallTrace } from "../audit/call-trace.js";
import type { RuntimeTenant } from "../config/compile-config.js";
import type { LlmConnectionConfig } from "../config/types.js";
import { ERRORS, refuse, type Refusal } from "../errors.js";
import type { DownstreamExchange, IncomingRequest } from "../gateway/downstream.js";
import type { Gateway } from "../gateway/gateway.js";
import { counterForModel } from "../guard/tokens.js";
import type { LimitedCall } from "../limits/compile-limits.js";
import { isRefusal } from "../mcp/jsonrpc.js";
import { canonicalName } from "../policy/canonical.js";
import { parseJsonObject } from "./json-body.js";
import { answerCall } from "./llm-answer-stage.js";
import { outcome } from "./llm-audit.js";
import { noteCaller, noteRefusal, recordAndRelease } from "../gateway/audited-exchange.js";
import { llmErrorBody } from "./llm-errors.js";
import { admitLimits, checkLlm, inspectLlm } from "./llm-guard.js";
import { listModels } from "./llm-models.js";
import { judgeLlm } from "./llm-policy.js";
import { readLlmRequest } from "./llm-request.js";
import { ENDPOINT_PATHS, parseLlmRoute } from "./llm-routes.js";
import { LlmUpstream } from "./llm-upstream.js";
import { admitLlm } from "./llm-vault.js";

export interface LlmCaller {
  readonly tenant: RuntimeTenant;
  readonly keyId: string;
  readonly connection: LlmConnectionConfig;
}

export async function handleLlm(gw: Gateway, req: IncomingRequest, ex: DownstreamExchange, originProblem: string | undefined): Promise<void> {
  const started = performance.now();
  const traceId = randomUUID();
  ex.setHeader(HEADERS.traceId, traceId);
  // The audit record's facts and per-stage timings, filled in as the stages run.
  const trace = gw.audit === undefined ? undefined : new CallTrace(traceId, started);
  const fail = (refusal: Refusal) => refuseLlm(gw, ex, trace, traceId, refusal);

  // Transport checks come first: they cost nothing and need no secrets. DNS-rebinding
  // protection (Host/Origin) was checked by the gateway's router, as for MCP.
  if (originProblem !== undefined) return fail(refuse("SENTINEL_FORBIDDEN_ORIGIN", originProblem));
  const route = parseLlmRoute(req.path);
  if (route === undefined) return fail(refuse("SENTINEL_UNKNOWN_CONNECTION", "the path must be /llm/<connection>/v1/<endpoint>"));
  if (route.kind !== "unknown") {
    const method = route.kind === "models" ? "GET" : "POST";
    if (req.method !== method) {
      ex.setHeader("allow", method);
      return fail(refuse("SENTINEL_METHOD_NOT_ALLOWED", `${req.method} is not served on ${req.path}; use ${method}`));
    }
    const type = req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
    if (method === "POST" && type !== "application/json") return fail(refuse("SENTINEL_UNSUPPORTED_MEDIA_TYPE", `Content-Type must be application/json, not ${type ?? "missing"}`));
  }

  // 1. Resolve the caller. Authentication precedes the connection and endpoint lookups so that
  //    an unauthenticated client learns nothing about which connections or routes exist.
  const caller = resolveLlmCaller(gw, req, route.connection, trace);
  if (isRefusal(caller)) return fail(caller);
  if (route.kind === "unknown") {
    return fail(refuse("SENTINEL_UNKNOWN_ENDPOINT", `"${route.rest}" is not an LLM endpoint; the gateway serves ${ENDPOINT_PATHS.join(", ")} and models`));
  }
  const afterResolve = performance.now();
  gw.metrics.recordStage("resolve", (afterResolve - started) * 1000);
  if (trace !== undefined) trace.resolveUs = (afterResolve - started) * 1000;
  // Fail closed: while the audit spool cannot take records, calls are refused, not served unaudited.
  if (gw.audit !== undefined && !gw.audit.accepting) {
    gw.audit.counters.refusedBackpressure++;
    gw.metrics.countRefusal("SENTINEL_AUDIT_UNAVAILABLE");
    return ex.sendJson(503, llmErrorBody(refuse("SENTINEL_AUDIT_UNAVAILABLE", "the audit trail cannot take records right now; retry later"), traceId));
  }
  // 2. Identity: the same headers as MCP, read per call (there is no session to fix them in).
  const identity = readIdentity(req.headers, caller.tenant.id);
  if (isRefusal(identity)) return fail(identity);
  if (trace !== undefined) noteCaller(trace, identity.user, identity.metadata);
  if (gw.draining) return fail(refuse("SENTINEL_SHUTTING_DOWN", "the gateway is draining"));
  const upstream = gw.upstreamFor(caller.tenant.id, caller.connection);
  if (!(upstream instanceof LlmUpstream)) throw new Error(`connection ${caller.connection.name} has no LLM upstream`);
  const base = { tenant: caller.tenant.id, user: identity.user, metadata: identity.metadata, connection: caller.connection.name, sourceIp: req.remoteAddress };
  if (route.kind === "models") return listModels({ gw, ex, trace, fail, tenant: caller.tenant, upstream, base }, route.model);

  // 3. The body: one JSON object, no duplicate keys, a model the upstream will resolve as policy judged it.
  const body = parseJsonObject(req.body);
  if (isRefusal(body)) return fail(body);
  const endpoint = route.endpoint;
  const call = readLlmRequest(body, endpoint);
  if (isRefusal(call)) return fail(call);
  if (trace !== undefined) {
    trace.method = endpoint.name;
    trace.target = "llm.model";
    trace.name = call.model;
    trace.args = body;
  }

  // 4. Content Guard and Token Guard, then policy. Scanning and counting come first because
  //    findings, `tokens.in` and limit usage are policy inputs; policy runs before anything
  //    reaches the provider: a refused call must never leave the gateway.
  const counter = counterForModel(call.model);
  const limited: LimitedCall = { tenant: caller.tenant.id, user: identity.user, session: "", connection: caller.connection.name, model: canonicalName(call.model) };
  let inspection = inspectLlm(gw, caller.tenant, limited, call, counter, req.body.length);
  if (inspection instanceof Promise) inspection = await inspection;
  if (isRefusal(inspection)) return fail(inspection);
  const afterInspect = performance.now();
  const verdict = judgeLlm(caller.tenant.policy, { ...base, args: body, ...inspection.facts }, call.model, endpoint.name);
  const afterPolicy = performance.now();
  gw.metrics.recordStage("policy", (afterPolicy - afterInspect) * 1000);
  if (trace !== undefined) {
    trace.policyUs = (afterPolicy - afterInspect) * 1000;
    trace.decision = verdict.decision.action;
    trace.ruleId = verdict.decision.ruleId;
    trace.reason = verdict.decision.reason;
    trace.target = verdict.target;
    if (verdict.target === "llm.endpoint") trace.name = verdict.name;
    trace.tokens = { in: inspection.tokensIn };
    if (inspection.findings.length + inspection.arrayFindings.length > 0) {
      trace.findings = [...inspection.findings, ...inspection.arrayFindings].map((f) => ({ type: f.id, path: f.path }));
    }
  }
  const refused = (refusal: Refusal) => {
    gw.metrics.countRequest(caller.connection.name, endpoint.name, "refused");
    fail(refusal);
  };
  if (verdict.refusal !== undefined) return refused(verdict.refusal);
  // Deny patterns and token caps; the output cap is written into the request here.
  const allowance = checkLlm(caller.tenant, call, endpoint, upstream.provider, inspection, verdict.action);
  if (isRefusal(allowance)) return refused(allowance);

  // 5. Vault & scope, before limits: a call the credential may not make, or whose credential
  //    cannot be opened, must not spend quota. After policy, so a refused call never costs a
  //    decrypt or a token fetch; the lease pins the version injected on the wire, so a call in
  //    flight when a rotation starts finishes on the version it was admitted with.
  const binding = gw.vault?.binding(caller.tenant.id, caller.connection.name);
  let lease = binding === undefined ? undefined : admitLlm(binding, [call.model, endpoint.name], body);
  if (lease instanceof Promise) lease = await lease;
  const afterVault = performance.now();
  if (binding !== undefined) gw.metrics.recordStage("vault", (afterVault - afterPolicy) * 1000);
  if (trace !== undefined && binding !== undefined) {
    trace.vaultUs = (afterVault - afterPolicy) * 1000;
    if (lease !== undefined && !isRefusal(lease)) trace.credential = { id: binding.credential.name, version: lease.version };
  }
  if (isRefusal(lease)) return refused(lease);

  // 6. Limits last, so no refused call spends quota: they reserve the prompt and the whole
  //    output allowance, and the answer settles them to the real usage. Then redaction rewrites
  //    the prompt in the parsed body; the gateway forwards its own serialisation of that object,
  //    so the provider only ever sees the placeholder.
  let admission = admitLimits(gw, caller.tenant, call, endpoint, inspection, allowance, verdict.action);
  if (admission instanceof Promise) admission = await admission;
  gw.metrics.recordStage("guard", (afterInspect - afterResolve + (performance.now() - afterVault)) * 1000);
  if (isRefusal(admission)) {
    if (lease !== undefined) binding!.credential.release(lease);
    return refused(admission);
  }

  // 7. Forward, then the answer: usage, settlement, response inspection, audit.
  gw.metrics.countRequest(caller.connection.name, endpoint.name, "forwarded");
  if (trace !== undefined) trace.forwardUs = performance.now();
  try {
    await answerCall({ gw, ex, trace, fail, tenant: caller.tenant, upstream, endpoint, call, counter, inspection, admission, lease });
  } finally {
    if (lease !== undefined) binding!.credential.release(lease);
  }
  const done = performance.now();
  gw.metrics.recordStage("forward", (done - afterVault) * 1000);
  gw.metrics.recordStage("total", (done - started) * 1000);
}

function resolveLlmCaller(gw: Gateway, req: IncomingRequest, connectionName: string, trace: CallTrace | undefined): LlmCaller | Refusal {
  const known = authenticate(gw, req, connectionName, trace);
  if (isRefusal(known)) return known;
  const { binding } = known;
  const connection = binding.tenant.connections.get(connectionName);
  if (connection === undefined || connection.transport !== "llm") {
    return refuse("SENTINEL_UNKNOWN_CONNECTION", `tenant "${binding.tenant.id}" has no LLM connection "${connectionName}"`);
  }
  return { tenant: binding.tenant, keyId: binding.keyId, connection };
}

/** Sends a refusal with its registry status, audited as soon as a tenant is known. */
export function refuseLlm(gw: Gateway, ex: DownstreamExchange, trace: CallTrace | undefined, traceId: string, refusal: Refusal): void {
  gw.metrics.countRefusal(refusal.code);
  const status = ERRORS[refusal.code].http;
  const body = llmErrorBody(refusal, traceId);
  // OpenAI clients honour Retry-After (whole seconds) before their own backoff.
  if (refusal.retryAfterMs !== undefined) ex.setHeader("retry-after", String(Math.max(1, Math.ceil(refusal.retryAfterMs / 1000))));
  if (trace?.tenant === undefined) return ex.sendJson(status, body);
  noteRefusal(trace, refusal);
  recordAndRelease(gw.audit!, trace, outcome(status, refusal.code), () => ex.sendJson(status, body));
}
