/**
 * The call pipeline for `/mcp/<connection>`, written as plain code: each stage is called by
 * name, in order, and each ordering constraint says why it sits where it does.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { HEADERS } from "../../sdk/ts/src/wire.js";
import { readIdentity, sameIdentity } from "../auth/identity.js";
import type { ApiKeyBinding } from "../config/compile-config.js";
import type { ConnectionConfig } from "../config/types.js";
import { ERRORS, refuse, type Refusal } from "../errors.js";
import { isRefusal, isRequest, isResponse, parseMessage, type JsonRpcId, type JsonRpcMessage } from "../mcp/jsonrpc.js";
import { isSupportedProtocolVersion } from "../mcp/protocol.js";
import type { DownstreamExchange, IncomingRequest } from "./downstream.js";
import { admit } from "../vault/vault-stage.js";
import { CallTrace } from "../audit/call-trace.js";
import { authenticate } from "./authenticate.js";
import { AuditedExchange, auditRefusal, notePolicy, noteSession } from "./audited-exchange.js";
import { exchangeGuard } from "./exchange-guard.js";
import { errorResponse, GatewaySession, type ResultRewrite } from "./gateway-session.js";
import type { Gateway } from "./gateway.js";
import { govern } from "./govern.js";
import { admitCall, enforce, inspect } from "./guard-stage.js";

interface Caller {
  readonly binding: ApiKeyBinding;
  readonly keyHash: string;
  readonly connection: ConnectionConfig;
}

export async function handleMcp(gw: Gateway, req: IncomingRequest, ex: DownstreamExchange, connectionName: string): Promise<void> {
  const started = performance.now();
  const traceId = randomUUID();
  ex.setHeader(HEADERS.traceId, traceId);
  // The audit record's facts and per-stage timings, filled in as the stages run.
  const trace = gw.audit === undefined ? undefined : new CallTrace(traceId, started);
  const fail = (refusal: Refusal, id: JsonRpcId | null = null, status: number = ERRORS[refusal.code].http) => {
    gw.metrics.countRefusal(refusal.code);
    const body = errorResponse(id, refusal, traceId);
    // Refusals are audited as soon as a tenant is known: proving what was refused is the point.
    if (trace?.tenant === undefined) return ex.sendJson(status, body);
    auditRefusal(gw.audit!, trace, refusal, status, body, () => ex.sendJson(status, body));
  };

  // Transport checks come first: they cost nothing and need no secrets.
  if (req.method === "POST") {
    const type = req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json") return fail(refuse("SENTINEL_UNSUPPORTED_MEDIA_TYPE", `Content-Type must be application/json, not ${type ?? "missing"}`));
    if (!accepts(req, "application/json") || !accepts(req, "text/event-stream")) {
      return fail(refuse("SENTINEL_NOT_ACCEPTABLE", "Accept must include application/json and text/event-stream"));
    }
  } else if (req.method === "GET") {
    if (!accepts(req, "text/event-stream")) return fail(refuse("SENTINEL_NOT_ACCEPTABLE", "Accept must include text/event-stream"));
  } else if (req.method !== "DELETE") {
    ex.setHeader("allow", "GET, POST, DELETE");
    return fail(refuse("SENTINEL_METHOD_NOT_ALLOWED", `${req.method} is not served on /mcp; use POST, GET or DELETE`));
  }

  // 1. Resolve the caller. Authentication precedes the connection lookup so that an
  //    unauthenticated client learns nothing about which connections exist.
  const caller = resolveCaller(gw, req, connectionName, trace);
  if (isRefusal(caller)) return fail(caller);
  const afterResolve = performance.now();
  gw.metrics.recordStage("resolve", (afterResolve - started) * 1000);
  if (trace !== undefined) trace.resolveUs = (afterResolve - started) * 1000;
  // Fail closed: while the audit spool cannot take records, calls are refused, not served unaudited.
  if (gw.audit !== undefined && !gw.audit.accepting) {
    gw.audit.counters.refusedBackpressure++;
    gw.metrics.countRefusal("SENTINEL_AUDIT_UNAVAILABLE");
    return ex.sendJson(503, errorResponse(null, refuse("SENTINEL_AUDIT_UNAVAILABLE", "the audit trail cannot take records right now; retry later"), traceId));
  }

  const sessionId = req.headers.get(HEADERS.sessionId);
  if (req.method !== "POST") {
    // GET opens the session's stream and DELETE ends the session: no JSON-RPC message, so the
    // record's method is the HTTP one. Either is recorded like a call, held until acknowledged.
    if (trace !== undefined) trace.method = req.method;
    if (sessionId === undefined) return fail(refuse("SENTINEL_SESSION_REQUIRED", `${req.method} needs an Mcp-Session-Id header`));
    const session = findSession(gw, sessionId, caller, req);
    if (isRefusal(session)) return fail(session);
    let answer: DownstreamExchange = ex;
    if (trace !== undefined) {
      noteSession(trace, session);
      trace.forwardUs = performance.now();
      answer = new AuditedExchange(ex, gw.audit!, trace, undefined);
    }
    if (req.method === "GET") return session.listen(req.headers.get("last-event-id"), answer);
    gw.sessions.remove(session.id);
    await session.end();
    return answer.sendEmpty(200);
  }

  const message = parseMessage(req.body);
  if (isRefusal(message)) return fail(message);
  const requestId = isRequest(message) ? message.id : null;
  if (trace !== undefined) trace.method = "method" in message ? message.method : "response";

  // 2. The session. A new one starts only with `initialize`; its identity is fixed here and
  //    every later request must present the same one (or none), so headers cannot be used to
  //    escalate mid-session. The kill switch will check session state at this point too.
  let session: GatewaySession | Refusal;
  if (isRequest(message) && message.method === "initialize") {
    if (sessionId !== undefined) return fail(refuse("SENTINEL_INVALID_REQUEST", "initialize must not carry an Mcp-Session-Id"), requestId);
    if (gw.draining) return fail(refuse("SENTINEL_SHUTTING_DOWN", "the gateway is draining"), requestId);
    session = startSession(gw, req, caller);
  } else if (sessionId === undefined) {
    return fail(refuse("SENTINEL_SESSION_REQUIRED", "send initialize first; other messages need an Mcp-Session-Id header"), requestId);
  } else {
    session = findSession(gw, sessionId, caller, req);
  }
  if (isRefusal(session)) return fail(session, requestId);
  ex.setHeader(HEADERS.sessionId, session.id);
  if (trace !== undefined) {
    noteSession(trace, session);
    // A client's answer to a server request is recorded with what it answers (sampling/createMessage…).
    if (isResponse(message)) trace.name = session.answeredMethod(message.id);
  }

  // 3. Content Guard and Token Guard, then policy. Scanning and counting come first because
  //    their findings and counts are policy inputs (`guard.<id>`, `tokens.in`, `usage.<id>`);
  //    large payloads are inspected in the worker pool, small ones inline (guard-stage.ts).
  //    Policy runs after the session so the decision sees the fixed identity, and before
  //    anything reaches the upstream: a refused call must never leave the gateway.
  let inspection = isRequest(message) ? inspect(gw, session, caller.binding.tenant, message, req.body) : undefined;
  if (inspection instanceof Promise) inspection = await inspection;
  const afterInspect = performance.now();
  const verdict = isRequest(message) ? govern(gw, session, caller.binding.tenant, message, req.remoteAddress, inspection?.facts) : undefined;
  const afterPolicy = performance.now();
  gw.metrics.recordStage("policy", (afterPolicy - afterInspect) * 1000);
  if (trace !== undefined) notePolicy(trace, verdict, message, (afterPolicy - afterInspect) * 1000, inspection);
  if (verdict?.refusal !== undefined) {
    gw.metrics.countRequest(connectionName, methodLabel(message), "refused");
    return fail(verdict.refusal, requestId, 200);
  }
  // Deny patterns and token caps come after policy allows. Redaction then rewrites the parsed
  // message in place: the gateway forwards its own serialisation of that object, so the upstream
  // only gets the placeholder, and the vault's scope check below sees what will be forwarded.
  const enforced = inspection !== undefined && isRequest(message) ? enforce(message, inspection, verdict?.decision?.action) : undefined;
  const afterEnforce = performance.now();
  if (isRefusal(enforced)) {
    gw.metrics.recordStage("guard", (afterInspect - afterResolve + (afterEnforce - afterPolicy)) * 1000);
    gw.metrics.countRequest(connectionName, methodLabel(message), "refused");
    return fail(enforced, requestId, 200);
  }

  // 4. Vault & scope. After policy, so a call policy refuses never costs a decrypt, a token
  //    fetch, or a lease that a rotation would have to drain. Before forward, so a call whose
  //    tool, resource or prompt needs a scope the credential lacks never leaves the gateway,
  //    and because the lease taken here pins the credential version injected on the wire: a
  //    call in flight when a rotation starts finishes on the version it was admitted with.
  const binding = isRequest(message) ? gw.vault?.binding(caller.binding.tenant.id, caller.connection.name) : undefined;
  let admission = binding !== undefined && isRequest(message) ? admit(binding, message) : undefined;
  if (admission instanceof Promise) admission = await admission;
  const afterVault = performance.now();
  if (binding !== undefined) gw.metrics.recordStage("vault", (afterVault - afterEnforce) * 1000);
  if (trace !== undefined && binding !== undefined) {
    trace.vaultUs = (afterVault - afterEnforce) * 1000;
    // The credential's name and version go in the record; the secret never does.
    if (admission !== undefined && !isRefusal(admission)) trace.credential = { id: binding.credential.name, version: admission.lease.version };
  }
  if (isRefusal(admission)) {
    gw.metrics.countRequest(connectionName, methodLabel(message), "refused");
    // An initialize that cannot reach its upstream leaves no half-open session behind.
    if (isRequest(message) && message.method === "initialize") {
      gw.sessions.remove(session.id);
      void session.end();
    }
    return fail(admission, requestId, 200);
  }

  // 5. Limits, last of the stages that can refuse: a call refused for any reason before this
  //    point (policy, Content Guard, a token cap, a missing scope, an unavailable credential)
  //    spends no quota, and a call over a limit never reaches the upstream. Once admitted it is
  //    charged whatever the upstream then does: it may have acted before failing or timing out.
  //    The trace is the meter: tool cost and output tokens go in the record when computed.
  let guarded = inspection !== undefined && enforced !== undefined ? admitCall(gw, inspection, enforced, trace) : undefined;
  if (guarded instanceof Promise) {
    // A shared counter store that fails must not leave the lease taken above held for ever.
    guarded = await guarded.catch((err: unknown) => {
      if (admission !== undefined) binding!.credential.release(admission.lease);
      throw err;
    });
  }
  const afterLimits = performance.now();
  if (inspection !== undefined) gw.metrics.recordStage("guard", (afterInspect - afterResolve + (afterEnforce - afterPolicy) + (afterLimits - afterVault)) * 1000);
  if (isRefusal(guarded)) {
    if (admission !== undefined) binding!.credential.release(admission.lease);
    gw.metrics.countRequest(connectionName, methodLabel(message), "refused");
    return fail(guarded, requestId, 200);
  }

  // 6. Forward. The credential goes on the wire in the outbound interceptor (HTTP) or was
  //    given to the child at spawn (stdio); the lease is released once the answer is complete.
  gw.metrics.countRequest(connectionName, methodLabel(message), "forwarded");
  // The audited exchange records the message when its answer goes down (7. below): a request's
  // result or error, a notification's or a response's 202. Until then forwardUs holds the
  // stage's start.
  let answer: DownstreamExchange = ex;
  if (trace !== undefined) {
    trace.forwardUs = afterLimits;
    // The arguments as forwarded: after Content Guard redaction, never the text it removed.
    if (isRequest(message)) trace.args = message.params?.arguments;
    answer = new AuditedExchange(ex, gw.audit!, trace, requestId ?? undefined);
  }
  if (isRequest(message)) {
    try {
      await session.request(message, answer, chainRewrites(chainRewrites(verdict?.rewrite, admission?.rewrite), guarded), admission?.lease);
    } finally {
      if (admission !== undefined) binding!.credential.release(admission.lease);
    }
  } else await session.deliver(message, answer);
  const done = performance.now();
  gw.metrics.recordStage("forward", (done - afterLimits) * 1000);
  gw.metrics.recordStage("total", (done - started) * 1000);
  // 7. Audit. The record was emitted when the answer went down (AuditedExchange): an array push
  //    here, sealed, hash-chained and written to the spool by the flusher on the next turn of
  //    the event loop. The answer itself was held until the spool acknowledged it.
}

function resolveCaller(gw: Gateway, req: IncomingRequest, connectionName: string, trace: CallTrace | undefined): Caller | Refusal {
  const known = authenticate(gw, req, connectionName, trace);
  if (isRefusal(known)) return known;
  const { binding, keyHash } = known;
  const connection = binding.tenant.connections.get(connectionName);
  // An llm connection is served at /llm/<name>, never over MCP.
  if (connection === undefined || connection.transport === "llm") {
    return refuse("SENTINEL_UNKNOWN_CONNECTION", `tenant "${binding.tenant.id}" has no connection "${connectionName}"`);
  }
  return { binding, keyHash, connection };
}

function startSession(gw: Gateway, req: IncomingRequest, caller: Caller): GatewaySession | Refusal {
  const identity = readIdentity(req.headers, caller.binding.tenant.id);
  if (isRefusal(identity)) return identity;
  const upstream = gw.upstreamFor(caller.binding.tenant.id, caller.connection);
  const session = new GatewaySession(
    randomUUID(),
    {
      tenantId: caller.binding.tenant.id,
      keyHash: caller.keyHash,
      connection: caller.connection.name,
      identity,
      identityFingerprint: identityFingerprint(req),
    },
    upstream,
    upstream.openSession(),
    gw.vault?.binding(caller.binding.tenant.id, caller.connection.name)?.credential,
    exchangeGuard(gw, caller.binding.tenant.id, caller.connection.name),
  );
  gw.sessions.add(session);
  return session;
}

function findSession(gw: Gateway, sessionId: string, caller: Caller, req: IncomingRequest): GatewaySession | Refusal {
  const session = gw.sessions.get(sessionId);
  // A session is only ever reachable with the key and connection that opened it. Answering
  // "unknown" rather than "forbidden" keeps session ids from being probed across keys.
  if (session === undefined || session.owner.keyHash !== caller.keyHash || session.owner.connection !== caller.connection.name) {
    return refuse("SENTINEL_UNKNOWN_SESSION", "no such session for this API key and connection; initialize a new one");
  }
  const version = req.headers.get(HEADERS.protocolVersion);
  if (version !== undefined && !isSupportedProtocolVersion(version)) {
    return refuse("SENTINEL_UNSUPPORTED_PROTOCOL_VERSION", `MCP-Protocol-Version "${version}" is not supported`);
  }
  // Clients repeat the identity headers on every request; byte-identical headers (or none) are
  // the same identity without parsing them again. Anything else is parsed and compared.
  const fingerprint = identityFingerprint(req);
  if (fingerprint === "" || fingerprint === session.owner.identityFingerprint) return session;
  const stated = readIdentity(req.headers, session.owner.tenantId);
  if (isRefusal(stated)) return stated;
  if (!sameIdentity(session.owner.identity, stated)) {
    return refuse("SENTINEL_IDENTITY_CHANGED", "the user and metadata of a session are fixed when it starts");
  }
  return session;
}

/** The identity headers of a request as one string; "" when it states none. */
function identityFingerprint(req: IncomingRequest): string {
  let out = "";
  for (const [name, value] of req.headers) {
    if (name === HEADERS.user || name === HEADERS.metadata || name.startsWith(HEADERS.metadataPrefix)) out += `${name}\n${value}\n`;
  }
  return out;
}

/** Policy's list filter, then the vault's (tools, resources and prompts the credential cannot use are hidden). */
function chainRewrites(first: ResultRewrite | undefined, second: ResultRewrite | undefined): ResultRewrite | undefined {
  if (first === undefined || second === undefined) return first ?? second;
  return (result) => second(first(result));
}

function accepts(req: IncomingRequest, type: string): boolean {
  const accept = req.headers.get("accept");
  if (accept === undefined) return false;
  return accept.split(",").some((part) => {
    const t = part.split(";")[0]!.trim().toLowerCase();
    return t === type || t === "*/*" || t === type.split("/")[0] + "/*";
  });
}

const KNOWN_METHODS = new Set([
  "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list", "resources/read",
  "resources/subscribe", "resources/unsubscribe", "prompts/list", "prompts/get", "completion/complete", "logging/setLevel",
  "notifications/initialized", "notifications/cancelled", "notifications/progress", "notifications/roots/list_changed",
]);

const methodLabel = (m: JsonRpcMessage): string => ("method" in m ? (KNOWN_METHODS.has(m.method) ? m.method : "other") : "response");

