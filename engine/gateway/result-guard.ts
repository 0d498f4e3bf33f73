/**
 * The guard on a governed call's result, as a ResultRewrite: response inspection (when the
 * tenant turns it on) scans every string leaf of the result with the same patterns and actions
 * as the arguments; Token Guard counts the result's tokens against the output and combined caps;
 * and output tokens are added to the token limits the call was admitted under.
 *
 * A result over a cap or holding a deny pattern is withheld: the agent gets a gateway error in
 * its place. The upstream did the work, so its output tokens count all the same. If inspection
 * itself fails (a worker crash), the result is withheld too: nothing unscanned goes down.
 */
import { refuse } from "../errors.js";
import { DEFAULT_OFFLOAD_BYTES } from "../guard/compile-guard.js";
import { describeFindings, findingsChannel, toFindings } from "../guard/findings.js";
import { redactLeaves } from "../guard/redact.js";
import type { LeafMatches } from "../guard/scan.js";
import { countJsonTokens, counterForModel } from "../guard/tokens.js";
import type { Admission } from "../limits/compile-limits.js";
import { WithheldResult, type ResultRewrite } from "./gateway-session.js";
import type { Gateway } from "./gateway.js";
import type { CallMeter, Inspection } from "./guard-stage.js";

export function resultGuard(gw: Gateway, inspection: Inspection, admission: Admission | undefined, meter: CallMeter | undefined): ResultRewrite | undefined {
  const sg = inspection.safeguards;
  const guard = sg?.guard?.responseInspection === true ? sg.guard : undefined;
  const capOut = sg?.caps?.output ?? Infinity;
  const capTotal = sg?.caps?.total ?? Infinity;
  const countOut = inspection.call.tool !== undefined && (capOut < Infinity || capTotal < Infinity || (admission?.tokenKeys.length ?? 0) > 0);
  if (guard === undefined && !countOut) return undefined;

  const judge = (result: unknown, leaves: readonly LeafMatches[], tokensOut: number | undefined): unknown => {
    // The audit record gets the count whether or not the result is withheld: the upstream did the work.
    if (tokensOut !== undefined && meter !== undefined) meter.tokens = { in: inspection.tokensIn, out: tokensOut };
    if (tokensOut !== undefined && admission !== undefined && sg?.limits !== undefined) {
      void sg.limits.settle(gw.counters, admission, tokensOut, 0).catch(() => undefined);
    }
    const patterns = guard?.spec.patterns ?? [];
    const findings = toFindings("result", leaves, patterns);
    if (findings.length > 0 && findingsChannel.hasSubscribers) {
      findingsChannel.publish({ tenant: inspection.call.tenant, connection: inspection.call.connection, direction: "response", findings });
    }
    const blocked = findings.filter((f) => f.action === "deny");
    if (blocked.length > 0) return new WithheldResult(refuse("SENTINEL_CONTENT_BLOCKED", `Content Guard withheld the result: ${describeFindings(blocked)} (action deny)`));
    if (tokensOut !== undefined) {
      if (tokensOut > capOut) return new WithheldResult(refuse("SENTINEL_TOKEN_CAP_EXCEEDED", `the result is ${tokensOut.toLocaleString("en-US")} tokens; the output cap is ${capOut.toLocaleString("en-US")}`));
      const total = (inspection.tokensIn ?? 0) + tokensOut;
      if (total > capTotal) return new WithheldResult(refuse("SENTINEL_TOKEN_CAP_EXCEEDED", `the call is ${total.toLocaleString("en-US")} tokens in and out; the total cap is ${capTotal.toLocaleString("en-US")}`));
    }
    return redactLeaves(result, leaves, (p) => patterns[p]!.action === "redact", (p) => patterns[p]!.label)[0];
  };

  return (result) => {
    const json = JSON.stringify(result) ?? "";
    const withheld = () => new WithheldResult(refuse("SENTINEL_INTERNAL", "the result could not be inspected"));
    if (json.length >= (sg?.guard?.offloadBytes ?? DEFAULT_OFFLOAD_BYTES)) {
      return gw.guardPool
        .run({ specKey: sg?.guardKey ?? "", spec: guard?.spec, json, pick: [], tokens: countOut ? "o200k_base" : undefined })
        .then((r) => judge(result, r.leaves, r.tokens), withheld);
    }
    try {
      return judge(result, guard?.scanner.scanValue(result) ?? [], countOut ? countJsonTokens(json, counterForModel(undefined)) : undefined);
    } catch {
      return withheld();
    }
  };
}
