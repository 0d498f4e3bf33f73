/**
 * The guard stage of a governed call, in three parts around policy and the vault:
 *
 *  inspect (before policy): Content Guard scans what the request carries (scan-targets.ts:
 *    tool and prompt arguments, a resource's URI, the value being completed) and Token Guard
 *    counts tool arguments, because findings (`guard.<id>`), token counts (`tokens.in`) and limit
 *    usage (`usage.<id>`) are policy inputs. Work no safeguard and no rule needs is skipped.
 *  enforce (after policy allows): deny patterns and token caps refuse, and a tool's price is
 *    read from its arguments; then redaction rewrites the parsed message in place. The gateway
 *    forwards its own serialisation of that object, never the client's bytes, so the upstream
 *    only ever sees the placeholder. The result rewrite (result-guard.ts) does the same for the
 *    answer.
 *  admitCall (after the vault): limits admit and charge the call. It is the last stage that can
 *    refuse before forward (pipeline.ts), so a call refused anywhere never spends quota.
 *
 * Payloads of `offloadBytes` or more are scanned and counted in the worker pool.
 */
import type { RuntimeTenant } from "../config/compile-config.js";
import type { Safeguards } from "../config/compile-safeguards.js";
import type { PolicyAction } from "../config/types.js";
import { refuse, type Refusal } from "../errors.js";
import { DEFAULT_OFFLOAD_BYTES } from "../guard/compile-guard.js";
import { describeFindings, findingsChannel, toFindings, type Finding } from "../guard/findings.js";
import { redactLeaves } from "../guard/redact.js";
import type { LeafMatches } from "../guard/scan.js";
import { countJsonTokens, counterForModel } from "../guard/tokens.js";
import { replaceAt } from "../guard/walk.js";
import type { CallAmounts, LimitedCall } from "../limits/compile-limits.js";
import { andThen, type MaybePromise } from "../limits/counter-store.js";
import { MICROS_PER_DOLLAR } from "../limits/prices.js";
import type { Usage } from "../limits/usage.js";
import type { JsonRpcRequest } from "../mcp/jsonrpc.js";
import { canonicalName } from "../policy/canonical.js";
import type { PolicyInput } from "../policy/compile-policy.js";
import type { GatewaySession, ResultRewrite } from "./gateway-session.js";
import type { Gateway } from "./gateway.js";
import { resultGuard } from "./result-guard.js";
import { REQUEST_TARGETS, valueAt, type ScanTarget } from "./scan-targets.js";
import { ownEntry } from "../util/own.js";

/**
 * Where the stage reports what it priced and what the result guard counted: the call's audit
 * trace (CallTrace), when audit is on. Only numbers the stage computes anyway are reported.
 */
export interface CallMeter {
  tokens: { in?: number; out?: number } | undefined;
  costUsd: number | undefined;
}

/** What the guard stage adds to the policy input. */
export type CallFacts = Pick<PolicyInput, "findings" | "tokens" | "usage">;

export interface Inspection {
  readonly facts: CallFacts;
  readonly safeguards: Safeguards | undefined;
  /** What was scanned, and where it sits in the request. */
  readonly target: ScanTarget;
  readonly call: LimitedCall;
  readonly leaves: readonly LeafMatches[];
  readonly findings: readonly Finding[];
  readonly tokensIn: number | undefined;
}

export function inspect(gw: Gateway, session: GatewaySession, tenant: RuntimeTenant, message: JsonRpcRequest, body: string): MaybePromise<Inspection | undefined> {
  const sg = tenant.safeguards;
  const reads = tenant.policy.reads;
  if (sg === undefined && !reads.has("guard") && !reads.has("tokens") && !reads.has("usage")) return undefined;
  const target = ownEntry(REQUEST_TARGETS, message.method);
  if (target === undefined) return undefined;
  const name = message.method === "resources/read" ? message.params?.uri : message.params?.name;
  if (typeof name !== "string" && message.method !== "completion/complete") return undefined; // policy refuses it
  const value = valueAt(message, target.pick);
  const tool = message.method === "tools/call" ? canonicalName(name as string) : undefined;
  const call: LimitedCall = { tenant: tenant.id, user: session.owner.identity.user, session: session.id, connection: session.owner.connection, tool };
  const scanner = value !== undefined ? sg?.guard?.scanner : undefined;
  const countTokens = tool !== undefined && (sg?.caps !== undefined || sg?.countsTokens === true || reads.has("tokens"));
  // An input cap alone needs no count when the text is too short to reach it: a token is at
  // least one byte, and UTF-8 takes at most three bytes per UTF-16 unit. Token limits, rules on
  // tokens and a total cap (checked again with the result's tokens) need the exact count.
  const exact = sg?.countsTokens === true || reads.has("tokens") || sg?.caps?.total !== undefined;
  const needsCount = countTokens && (exact || body.length * 3 > (sg?.caps?.input ?? Infinity));

  const finish = (leaves: readonly LeafMatches[], tokensIn: number | undefined) =>
    andThen(prefetchUsage(gw, sg, call, reads.has("usage")), (usage): Inspection => {
      const findings = toFindings(target.root, leaves, sg?.guard?.spec.patterns ?? []);
      const facts: CallFacts = {
        findings: new Set(findings.map((f) => f.id)),
        tokens: tokensIn === undefined ? undefined : { in: tokensIn, out: 0 },
        usage: usage === undefined ? undefined : (id) => usage.get(id),
      };
      return { facts, safeguards: sg, target, call, leaves, findings, tokensIn };
    });

  if ((scanner !== undefined || needsCount) && body.length >= (sg?.guard?.offloadBytes ?? DEFAULT_OFFLOAD_BYTES)) {
    return gw.guardPool
      .run({ specKey: sg?.guardKey ?? "", spec: scanner === undefined ? undefined : sg!.guard!.spec, json: body, pick: target.pick, tokens: needsCount ? "o200k_base" : undefined })
      .then((r) => finish(r.leaves, r.tokens));
  }
  return finish(scanner?.scanValue(value) ?? [], needsCount ? countJsonTokens(value, counterForModel(undefined)) : undefined);
}

/**
 * After policy permitted the call: refusals by content and caps, the call's price, then
 * redaction. Returns what the call adds to the limits, for admitCall.
 */
export function enforce(message: JsonRpcRequest, inspection: Inspection, action: PolicyAction | undefined): Refusal | CallAmounts {
  const sg = inspection.safeguards;
  const blocked = inspection.findings.filter((f) => f.action === "deny");
  if (blocked.length > 0) return refuse("SENTINEL_CONTENT_BLOCKED", `Content Guard: ${describeFindings(blocked)} (action deny)`);
  const tokensIn = inspection.tokensIn;
  if (tokensIn !== undefined && sg?.caps !== undefined) {
    const cap = Math.min(sg.caps.input ?? Infinity, sg.caps.total ?? Infinity);
    if (tokensIn > cap) return refuse("SENTINEL_TOKEN_CAP_EXCEEDED", `the arguments are ${tokensIn.toLocaleString("en-US")} tokens; the ${sg.caps.input === cap ? "input" : "total"} cap is ${cap.toLocaleString("en-US")}`);
  }
  const args = message.params?.arguments as Readonly<Record<string, unknown>> | undefined;
  const micros = sg?.prices !== undefined && inspection.call.tool !== undefined ? sg.prices.toolCost(inspection.call.tool, args) : 0;
  if (typeof micros !== "number") return refuse("SENTINEL_INVALID_PARAMS", micros.problem);

  // A policy `redact` decision redacts every finding; otherwise each pattern's own action decides.
  const patterns = sg?.guard?.spec.patterns ?? [];
  const redacts = (p: number) => action === "redact" || patterns[p]!.action === "redact";
  const redactable = inspection.target.redactable;
  if (redactable !== undefined) {
    const fixed = inspection.leaves.filter((l) => !redactable(l.path) && l.matches.some((m) => redacts(m.pattern)));
    if (fixed.length > 0) {
      const named = toFindings(inspection.target.root, fixed, patterns).filter((f) => action === "redact" || f.action === "redact");
      return refuse("SENTINEL_CONTENT_BLOCKED", `Content Guard: ${describeFindings(named)}, which cannot be redacted there`);
    }
  }
  const value = valueAt(message, inspection.target.pick);
  const [root, redacted] = redactLeaves(value, inspection.leaves, redacts, (p) => patterns[p]!.label);
  // Objects are redacted in place; a value that is itself a string (a URI) is put back.
  if (root !== value) replaceAt(message, inspection.target.pick, root as string);
  if (inspection.findings.length > 0 && findingsChannel.hasSubscribers) {
    findingsChannel.publish({ tenant: inspection.call.tenant, connection: inspection.call.connection, method: message.method, direction: "request", redacted, findings: inspection.findings });
  }
  return { tokensIn: tokensIn ?? 0, micros };
}

/**
 * Limits admit and charge the call, after every other stage that can refuse it (pipeline.ts).
 * Returns the rewrite for the call's result, if any safeguard looks at results.
 */
export function admitCall(gw: Gateway, inspection: Inspection, amounts: CallAmounts, meter?: CallMeter): MaybePromise<Refusal | ResultRewrite | undefined> {
  const sg = inspection.safeguards;
  // Limits count tool calls (and LLM calls on the LLM path), not prompt or resource reads.
  const limited = sg?.limits !== undefined && inspection.call.tool !== undefined;
  const admitted = limited ? sg.limits!.admit(gw.counters, inspection.call, amounts) : undefined;
  return andThen(admitted, (admission) => {
    if (admission !== undefined && "code" in admission) return admission;
    // Priced once admitted: a refused call costs nothing.
    if (meter !== undefined && sg?.prices !== undefined && inspection.call.tool !== undefined) meter.costUsd = amounts.micros / MICROS_PER_DOLLAR;
    return resultGuard(gw, inspection, admission, meter);
  });
}

/** Usage of every limit for this caller, read before policy runs (a shared store is async). */
function prefetchUsage(gw: Gateway, sg: Safeguards | undefined, call: LimitedCall, wanted: boolean): MaybePromise<Map<string, { used: number; limit: number }> | undefined> {
  if (!wanted || sg?.limits === undefined) return undefined;
  const limits = sg.limits;
  const read = limits.limits.map((limit) => limits.usage(gw.counters, call, limit));
  const collect = (all: readonly Usage[]) => new Map(all.map((u) => [u.limitId, { used: u.used, limit: u.max }]));
  return read.some((u) => u instanceof Promise) ? Promise.all(read).then(collect) : collect(read as Usage[]);
}
