/**
 * Content Guard and Token Guard on what an upstream server asks of the client, and on what the
 * client answers (scan-targets.ts says which text):
 *
 *  `sampling/createMessage` on its way down is an LLM call the server makes through the client.
 *    Its prompt is scanned like arguments (deny refuses it, redact rewrites it) and counted
 *    against the input cap; `maxTokens` is lowered to what the output cap (and the total cap,
 *    after the prompt) leaves, so the client's model is held to the tenant's `tokenCaps`.
 *  The client's sampling answer, on its way up, is scanned like a result when response
 *    inspection is on, and withheld if over the output cap (a client may ignore `maxTokens`).
 *  An elicitation answer, on its way up, is what the user gives the server: scanned like
 *    arguments, always.
 *
 * A refused request never reaches the client and a refused answer never reaches the server:
 * the server gets a JSON-RPC error for its request instead. If inspection itself fails (a worker
 * crash), that is a refusal too: nothing unscanned passes. Safeguards are looked up per message,
 * so a publish applies to open sessions from their next message on.
 */
import type { Safeguards } from "../config/compile-safeguards.js";
import { refuse, type Refusal } from "../errors.js";
import { DEFAULT_OFFLOAD_BYTES } from "../guard/compile-guard.js";
import { describeFindings, findingsChannel, toFindings } from "../guard/findings.js";
import { runLeaves, mergeLeaves } from "../guard/joined-parts.js";
import { redactLeaves } from "../guard/redact.js";
import type { LeafMatches } from "../guard/scan.js";
import { counterForModel } from "../guard/tokens.js";
import { walkStrings } from "../guard/walk.js";
import { andThen, type MaybePromise } from "../limits/counter-store.js";
import type { JsonRpcRequest } from "../mcp/jsonrpc.js";
import { WithheldResult, type ResultRewrite } from "./gateway-session.js";
import type { Gateway } from "./gateway.js";
import { elicitationAnswer, samplingAnswer, samplingPrompt, samplingRuns } from "./scan-targets.js";

export interface ExchangeGuard {
  /** A server request on its way to the client: rewritten in place, or refused. */
  serverRequest(message: JsonRpcRequest): MaybePromise<Refusal | undefined>;
  /** For the client's answer to a server request of `method`; undefined when nothing looks at it. */
  answerRewrite(method: string): ResultRewrite | undefined;
}

interface Scanned {
  readonly leaves: readonly LeafMatches[];
  readonly tokens: number | undefined;
}

const n = (x: number) => x.toLocaleString("en-US");

export function exchangeGuard(gw: Gateway, tenantId: string, connection: string): ExchangeGuard {
  const current = (): Safeguards | undefined => gw.runtime.tenants.get(tenantId)?.safeguards;
  const report = (method: string, direction: string, findings: ReturnType<typeof toFindings>, redacted: number) => {
    if (findings.length > 0 && findingsChannel.hasSubscribers) findingsChannel.publish({ tenant: tenantId, connection, method, direction, redacted, findings });
  };

  return {
    serverRequest(message) {
      if (message.method !== "sampling/createMessage") return undefined;
      const sg = current();
      const caps = sg?.caps;
      if (sg === undefined || (sg.guard === undefined && caps === undefined)) return undefined;
      const capIn = Math.min(caps?.input ?? Infinity, caps?.total ?? Infinity);
      const failed = () => refuse("SENTINEL_INTERNAL", "the sampling request could not be inspected");
      let scanned: MaybePromise<Scanned>;
      try {
        scanned = scan(gw, sg, samplingPrompt(message.params), sg.guard !== undefined, capIn < Infinity);
      } catch {
        return failed();
      }
      const judged = andThen(scanned, (result): Refusal | undefined => {
        const { tokens } = result;
        const patterns = sg.guard?.spec.patterns ?? [];
        const leaves = sg.guard === undefined ? result.leaves : mergeLeaves(result.leaves, runLeaves(sg.guard.scanner, samplingRuns(message.params)));
        const findings = toFindings("params", leaves, patterns);
        const blocked = findings.filter((f) => f.action === "deny");
        if (blocked.length > 0) {
          report(message.method, "server-request", findings, 0);
          return refuse("SENTINEL_CONTENT_BLOCKED", `Content Guard: ${describeFindings(blocked)} in the sampling request (action deny)`);
        }
        if (tokens !== undefined && tokens > capIn) {
          return refuse("SENTINEL_TOKEN_CAP_EXCEEDED", `the sampling prompt is ${n(tokens)} tokens; the ${caps?.input === capIn ? "input" : "total"} cap is ${n(capIn)}`);
        }
        // The paths of the prompt's text are the paths in params (scan-targets.ts).
        const [, redacted] = redactLeaves(message.params, leaves, (p) => patterns[p]!.action === "redact", (p) => patterns[p]!.label);
        report(message.method, "server-request", findings, redacted);
        const allowance = Math.min(caps?.output ?? Infinity, (caps?.total ?? Infinity) - (tokens ?? 0));
        if (allowance < 1) return refuse("SENTINEL_TOKEN_CAP_EXCEEDED", `the sampling prompt is ${n(tokens ?? 0)} tokens and leaves no output tokens under the caps`);
        const asked = message.params?.maxTokens;
        if (allowance < Infinity && !(typeof asked === "number" && asked <= allowance)) (message.params ??= {}).maxTokens = allowance;
        return undefined;
      });
      return judged instanceof Promise ? judged.catch(failed) : judged;
    },

    answerRewrite(method) {
      const sg = current();
      if (sg === undefined) return undefined;
      const patterns = sg.guard?.spec.patterns ?? [];
      let project: (result: unknown) => unknown;
      let what: string;
      let capOut = Infinity;
      if (method === "sampling/createMessage") {
        capOut = sg.caps?.output ?? Infinity;
        if (sg.guard?.responseInspection !== true && capOut === Infinity) return undefined;
        project = samplingAnswer;
        what = "sampling answer";
      } else if (method === "elicitation/create") {
        if (sg.guard === undefined) return undefined;
        project = elicitationAnswer;
        what = "elicitation answer";
      } else return undefined;
      const scanning = sg.guard !== undefined && (method === "elicitation/create" || sg.guard.responseInspection);

      const judge = (result: unknown, { leaves, tokens }: Scanned): unknown => {
        const findings = toFindings("result", leaves, patterns);
        const blocked = findings.filter((f) => f.action === "deny");
        if (blocked.length > 0) {
          report(method, "client-answer", findings, 0);
          return new WithheldResult(refuse("SENTINEL_CONTENT_BLOCKED", `Content Guard withheld the ${what}: ${describeFindings(blocked)} (action deny)`));
        }
        if (tokens !== undefined && tokens > capOut) {
          return new WithheldResult(refuse("SENTINEL_TOKEN_CAP_EXCEEDED", `the ${what} is ${n(tokens)} tokens; the output cap is ${n(capOut)}`));
        }
        const [out, redacted] = redactLeaves(result, leaves, (p) => patterns[p]!.action === "redact", (p) => patterns[p]!.label);
        report(method, "client-answer", findings, redacted);
        return out;
      };
      return (result) => {
        const withheld = () => new WithheldResult(refuse("SENTINEL_INTERNAL", `the ${what} could not be inspected`));
        try {
          const scanned = scan(gw, sg, project(result), scanning, capOut < Infinity);
          return scanned instanceof Promise ? scanned.then((s) => judge(result, s), withheld) : judge(result, scanned);
        } catch {
          return withheld();
        }
      };
    },
  };
}

/**
 * Scans and counts a projected value inline, or in the worker pool when it is large. Tokens are
 * counted per text (the model reads the text, not the projection's JSON).
 */
function scan(gw: Gateway, sg: Safeguards, value: unknown, scanning: boolean, counting: boolean): MaybePromise<Scanned> {
  const guard = scanning ? sg.guard : undefined;
  if (guard === undefined && !counting) return { leaves: [], tokens: undefined };
  const json = JSON.stringify(value);
  if (json.length >= (sg.guard?.offloadBytes ?? DEFAULT_OFFLOAD_BYTES)) {
    return gw.guardPool.run({ specKey: sg.guardKey, spec: guard?.spec, json, pick: [], tokens: counting ? "o200k_base" : undefined, countEach: true });
  }
  let tokens: number | undefined;
  if (counting) {
    const counter = counterForModel(undefined);
    tokens = 0;
    walkStrings(value, (text) => (tokens! += counter.count(text)));
  }
  return { leaves: guard?.scanner.scanValue(value) ?? [], tokens };
}
