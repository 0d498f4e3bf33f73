/**
 * Content Guard and Token Guard for an LLM call, in two halves around policy like the MCP
 * guard stage (engine/gateway/guard-stage.ts):
 *
 *  inspect (before policy): scans the prompt text and counts its tokens with the model's own
 *    tokenizer, because findings, `tokens.in` and limit usage are policy inputs. Unlike a tool
 *    call, an LLM call is always counted: its tokens are what it costs, and the audit record,
 *    the price and the settlement of the limits all need the number.
 *  check (after policy allows): deny findings and token caps refuse; the output cap becomes
 *    the request's max-tokens field.
 *  admitLimits (after the vault stage): limits reserve the input plus the whole output
 *    allowance (settled to the real usage when the answer arrives); last, redaction rewrites
 *    the prompt strings in the parsed body, which the gateway serialises itself.
 *
 * Payloads of `offloadBytes` or more are scanned and counted in the worker pool.
 */
import type { RuntimeTenant } from "../config/compile-config.js";
import type { LlmProvider, PolicyAction } from "../config/types.js";
import { refuse, type Refusal } from "../errors.js";
import type { CallFacts } from "../gateway/guard-stage.js";
import type { Gateway } from "../gateway/gateway.js";
import { DEFAULT_OFFLOAD_BYTES } from "../guard/compile-guard.js";
import { describeFindings, findingsChannel, toFindings, type Finding } from "../guard/findings.js";
import { redactLeaves } from "../guard/redact.js";
import type { LeafMatches, TextMatch } from "../guard/scan.js";
import type { TokenCounter } from "../guard/tokens.js";
import type { Admission, CallAmounts, LimitedCall } from "../limits/compile-limits.js";
import { andThen, type MaybePromise } from "../limits/counter-store.js";
import type { Usage } from "../limits/usage.js";
import { isRefusal } from "../mcp/jsonrpc.js";
import type { LlmRequest } from "./llm-request.js";
import { applyOutputCap } from "./output-cap.js";
import type { LlmEndpoint } from "./llm-routes.js";
import { joinRuns, spreadRunMatches } from "../guard/joined-parts.js";
import { decodeTokenArrays } from "./token-arrays.js";

export interface LlmInspection {
  readonly facts: CallFacts;
  readonly call: LimitedCall;
  /** Matches per prompt leaf; paths are into the body. */
  readonly leaves: readonly LeafMatches[];
  readonly findings: readonly Finding[];
  /** Findings inside token arrays, which cannot be redacted. */
  readonly arrayFindings: readonly Finding[];
  readonly tokensIn: number;
}

/** The limits' hold on an admitted call, settled when its answer is in (llm-usage.ts). */
export interface LlmAdmission {
  readonly limits: Admission | undefined;
  readonly reserved: CallAmounts;
  /** Output tokens the call may produce in all, when a cap bounds it. */
  readonly outputAllowance: number | undefined;
}

/** Framing tokens per chat message and for the reply's priming (OpenAI's published accounting). */
const PER_MESSAGE = 3;

export function inspectLlm(gw: Gateway, tenant: RuntimeTenant, call: LimitedCall, req: LlmRequest, counter: TokenCounter, bodyBytes: number): MaybePromise<LlmInspection | Refusal> {
  const sg = tenant.safeguards;
  const scanner = sg?.guard?.scanner;
  const decoded = scanner === undefined ? [] : decodeTokenArrays(req.tokenArrays, counter);
  if (isRefusal(decoded)) return decoded;
  // What else reaches the provider (tool definitions, schemas, end-user fields) is scanned like
  // the prompt; of it only tool definitions are billed, counted once as their JSON.
  const scanned = [...req.leaves, ...req.extraLeaves];
  // Then each message's parts joined (joined-parts.ts): scanned, never counted.
  const promptTexts = req.leaves.map((l) => l.text);
  const runs = scanner === undefined ? [] : joinRuns(promptTexts, req.joined);
  const all = [...promptTexts, ...req.extraLeaves.map((l) => l.text), ...runs];
  // The key a value sits under is context for some validators (an AWS secret named as one).
  const keys = scanned.map((l) => l.key);
  let fixed = req.messages === 0 ? 0 : req.messages * PER_MESSAGE + PER_MESSAGE;
  for (const a of req.tokenArrays) fixed += a.tokens.length;

  const finish = (found: ReadonlyArray<readonly TextMatch[] | undefined>, counted: number) =>
    andThen(prefetchUsage(gw, tenant, call), (usage): LlmInspection => {
      const patterns = sg?.guard?.spec.patterns ?? [];
      const matches = found.slice(0, scanned.length);
      spreadRunMatches(promptTexts, req.joined, found.slice(scanned.length), matches);
      const leaves: LeafMatches[] = [];
      scanned.forEach((leaf, i) => {
        if ((matches[i]?.length ?? 0) > 0) leaves.push({ path: leaf.path, matches: matches[i]! });
      });
      const inArrays: LeafMatches[] = [];
      if (scanner !== undefined && decoded.length > 0) {
        scanner.scanLeaves(decoded.map((d) => d.text)).forEach((m, i) => m.length > 0 && inArrays.push({ path: decoded[i]!.path, matches: m }));
      }
      const findings = toFindings("body", leaves, patterns);
      const arrayFindings = toFindings("body", inArrays, patterns);
      const tokensIn = counted + fixed;
      const facts: CallFacts = {
        findings: new Set([...findings, ...arrayFindings].map((f) => f.id)),
        tokens: { in: tokensIn, out: 0 },
        usage: usage === undefined ? undefined : (id) => usage.get(id),
      };
      return { facts, call, leaves, findings, arrayFindings, tokensIn };
    });

  if (bodyBytes >= (sg?.guard?.offloadBytes ?? DEFAULT_OFFLOAD_BYTES)) {
    // The pool gets the prompt's texts and the tool definitions' JSON, counted, then the rest,
    // scanned only (the JSON's own matches are ignored: its strings are scanned as leaves). A
    // keyed text goes as `{ key: text }`, so the worker's scan sees the key too.
    const counted = req.toolsJson === "" ? promptTexts : [...promptTexts, req.toolsJson];
    const rest = all.slice(req.leaves.length).map((text, j) => {
      const key = keys[req.leaves.length + j];
      return key === undefined ? text : { [key]: text };
    });
    const json = JSON.stringify([...counted, ...rest]);
    const shift = counted.length - req.leaves.length;
    return gw.guardPool
      .run({ specKey: sg?.guardKey ?? "", spec: scanner === undefined ? undefined : sg!.guard!.spec, json, pick: [], tokens: counter.name, countEach: true, countFirst: counted.length })
      .then((r) => {
        // Leaf paths are [index] into the list sent; back to indices into `all`.
        const matches: Array<readonly TextMatch[]> = [];
        for (const leaf of r.leaves) {
          const at = leaf.path[0];
          if (typeof at !== "number" || (shift > 0 && at === req.leaves.length)) continue;
          matches[at < req.leaves.length ? at : at - shift] = leaf.matches;
        }
        return finish(matches, r.tokens ?? 0);
      });
  }
  let counted = req.toolsJson === "" ? 0 : counter.count(req.toolsJson);
  for (const leaf of req.leaves) counted += counter.count(leaf.text);
  return finish(scanner?.scanLeaves(all, keys) ?? [], counted);
}

/**
 * After policy permitted the call: refusals by content and caps, and the output cap written
 * into the request. Returns the output allowance (LlmAdmission.outputAllowance).
 */
export function checkLlm(tenant: RuntimeTenant, req: LlmRequest, endpoint: LlmEndpoint, provider: LlmProvider, inspection: LlmInspection, action: PolicyAction): number | undefined | Refusal {
  const blocked = inspection.findings.filter((f) => f.action === "deny");
  if (blocked.length > 0) return refuse("SENTINEL_CONTENT_BLOCKED", `Content Guard: ${describeFindings(blocked)} (action deny)`);
  if (inspection.arrayFindings.some((f) => f.action !== "alert" || action === "redact")) {
    return refuse("SENTINEL_CONTENT_BLOCKED", `Content Guard: ${describeFindings(inspection.arrayFindings)} in a token array, which cannot be redacted; send text`);
  }
  const tokensIn = inspection.tokensIn;
  const caps = tenant.safeguards?.caps;
  const inputCap = Math.min(caps?.input ?? Infinity, caps?.total ?? Infinity);
  if (tokensIn > inputCap) {
    return refuse("SENTINEL_TOKEN_CAP_EXCEEDED", `the prompt is ${tokensIn.toLocaleString("en-US")} tokens; the ${caps?.input === inputCap ? "input" : "total"} cap is ${inputCap.toLocaleString("en-US")}`);
  }
  return applyOutputCap(req, endpoint, provider, caps, tokensIn);
}

/**
 * Limits, then redaction of the body in place. A policy `redact` decision redacts every
 * finding; otherwise each pattern's own action decides. Findings in token arrays under a
 * token array would need redacting were refused by checkLlm; alert-only ones are left alone.
 */
export function admitLimits(
  gw: Gateway,
  tenant: RuntimeTenant,
  req: LlmRequest,
  endpoint: LlmEndpoint,
  inspection: LlmInspection,
  outputAllowance: number | undefined,
  action: PolicyAction,
): MaybePromise<LlmAdmission | Refusal> {
  const sg = tenant.safeguards;
  const patterns = sg?.guard?.spec.patterns ?? [];
  const tokensIn = inspection.tokensIn;
  const reservedOut = outputAllowance ?? 0;
  const reserved: CallAmounts = { tokensIn: tokensIn + reservedOut, micros: sg?.prices?.modelCost(req.model, tokensIn, reservedOut) ?? 0 };
  const admitted = sg?.limits === undefined ? undefined : sg.limits.admit(gw.counters, inspection.call, reserved);
  return andThen(admitted, (limits): LlmAdmission | Refusal => {
    if (limits !== undefined && "code" in limits) return limits;
    const [, redacted] = redactLeaves(req.body, inspection.leaves, (p) => action === "redact" || patterns[p]!.action === "redact", (p) => patterns[p]!.label);
    if (inspection.findings.length > 0 && findingsChannel.hasSubscribers) {
      findingsChannel.publish({ tenant: inspection.call.tenant, connection: inspection.call.connection, method: endpoint.name, direction: "request", redacted, findings: inspection.findings });
    }
    return { limits, reserved, outputAllowance };
  });
}

/** Usage of every limit for this caller, read before policy runs (a shared store is async). */
function prefetchUsage(gw: Gateway, tenant: RuntimeTenant, call: LimitedCall): MaybePromise<Map<string, { used: number; limit: number }> | undefined> {
  const limits = tenant.safeguards?.limits;
  if (!tenant.policy.reads.has("usage") || limits === undefined) return undefined;
  const read = limits.limits.map((limit) => limits.usage(gw.counters, call, limit));
  const collect = (all: readonly Usage[]) => new Map(all.map((u) => [u.limitId, { used: u.used, limit: u.max }]));
  return read.some((u) => u instanceof Promise) ? Promise.all(read).then(collect) : collect(read as Usage[]);
}
