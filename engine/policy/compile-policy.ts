/**
 * Policy rules, compiled once per publish and evaluated per call.
 *
 * First match wins, in ascending `order` then file position; when nothing matches the decision
 * is `deny` with rule id `default-deny`. Names and compared string values are canonicalised
 * (canonical.ts) on both sides, so look-alike spellings cannot slip past a rule. Candidate rules
 * for a name come from RuleIndex, so 10,000 rules do not cost 10,000 checks.
 */
import { performance } from "node:perf_hooks";
import type { Metadata } from "../auth/identity.js";
import type { PolicyAction, PolicyConfig, PolicyTarget } from "../config/types.js";
import { canonicalName } from "./canonical.js";
import { compileConditions, ConditionError, type CompiledConditions } from "./conditions.js";
import type { InputKind } from "./fields.js";
import { compileGlob, GlobSyntaxError, type GlobMatcher } from "./glob.js";
import { RuleIndex } from "./rule-index.js";

export interface PolicyInput {
  readonly tenant: string;
  readonly user: string | undefined;
  readonly metadata: Metadata;
  readonly connection: string;
  readonly target: PolicyTarget;
  /** As the caller sent it; canonicalised by `evaluate`. */
  readonly name: string;
  /** The caller's address, for `cidr` conditions. */
  readonly sourceIp?: string;
  /** The call's arguments (tools/call `arguments`, prompts/get `arguments`), for `args.*` fields. */
  readonly args?: Readonly<Record<string, unknown>>;
  /** Content Guard findings: the pattern ids that matched the arguments (`guard.*` fields). */
  readonly findings?: ReadonlySet<string>;
  /** Token Guard counts for this call (`tokens.in`, `tokens.out`). */
  readonly tokens?: { readonly in: number; readonly out: number };
  /** Current usage of configured limits (`usage.<limit id>` fields), read lazily. */
  readonly usage?: (limitId: string) => { readonly used: number; readonly limit: number } | undefined;
  /** Milliseconds since the epoch; defaults to the time of evaluation (time-of-day conditions). */
  readonly now?: number;
}

export interface Decision {
  readonly action: PolicyAction;
  /** The rule that matched, or `default-deny`. */
  readonly ruleId: string;
  readonly reason: string;
  /** Whether the call may proceed: allow, alert and redact do; deny and confirm do not. */
  readonly permitted: boolean;
  /** The conditions of the matching rule, as written, that held. */
  readonly matched: readonly string[];
  /** How long evaluation took, in microseconds. */
  readonly micros: number;
}

export type TraceOutcome = "matched" | "pattern did not match" | "condition failed" | "disabled" | "out of scope";

export interface TraceStep {
  readonly ruleId: string;
  readonly outcome: TraceOutcome;
  readonly detail: string;
}

export interface Explanation {
  readonly decision: Decision;
  /** Every rule for the call's target, in evaluation order, up to the one that decided. */
  readonly trace: readonly TraceStep[];
}

export interface CompiledPolicy {
  readonly ruleCount: number;
  /** The inputs some enabled rule reads; the pipeline supplies nothing else. */
  readonly reads: ReadonlySet<InputKind>;
  evaluate(input: PolicyInput): Decision;
  explain(input: PolicyInput): Explanation;
  /**
   * Whether some rule could permit a call to this name when the inputs it lacks (arguments,
   * findings, tokens, usage) are unknown: lists show what may be callable, and the call itself
   * is decided when it is made.
   */
  mayPermit(input: PolicyInput): boolean;
}

export const DEFAULT_DENY_ID = "default-deny";

/** A rule that cannot compile; `index` is its position in the given list, `path` inside it. */
export class PolicyRuleError extends Error {
  override readonly name = "PolicyRuleError";
  constructor(
    readonly index: number,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export interface CompileOptions {
  /** The gateway's environment; rules scoped to other environments are left out. */
  readonly environment?: string;
}

interface CompiledRule {
  readonly id: string;
  readonly target: PolicyTarget;
  readonly glob: GlobMatcher;
  readonly conditions: CompiledConditions;
  readonly verdict: Omit<Decision, "matched" | "micros">;
  /** The condition texts a match reports, when no anyOf group makes them depend on the call. */
  readonly fixedMatched: readonly string[] | undefined;
}

const NOTHING: readonly string[] = Object.freeze([]);

interface Skipped {
  readonly id: string;
  readonly target: PolicyTarget;
  readonly outcome: "disabled" | "out of scope";
}

export function compilePolicy(rules: readonly PolicyConfig[], options: CompileOptions = {}): CompiledPolicy {
  const ordered = rules.map((rule, index) => ({ rule, index })).sort((a, b) => (a.rule.order ?? 0) - (b.rule.order ?? 0) || a.index - b.index);
  const compiled: CompiledRule[] = [];
  const skipped: Skipped[] = [];
  const indexes = new Map<PolicyTarget, RuleIndex>();
  const reads = new Set<InputKind>();

  for (const { rule, index } of ordered) {
    // Disabled and out-of-scope rules still compile, so a broken rule is caught before anyone
    // enables it.
    const one = compileRule(rule, index);
    if (rule.enabled === false || !inScope(rule, options.environment)) {
      skipped.push({ id: rule.id, target: rule.target, outcome: rule.enabled === false ? "disabled" : "out of scope" });
      continue;
    }
    const position = compiled.length;
    compiled.push(one);
    for (const kind of one.conditions.reads) reads.add(kind);
    let index_ = indexes.get(rule.target);
    if (index_ === undefined) indexes.set(rule.target, (index_ = new RuleIndex()));
    index_.add(position, one.glob.shapes);
  }

  // Decisions are built as one object literal of a fixed shape: evaluation is allocation-bound,
  // and a spread or a helper object per call costs more than the rule checks themselves.
  const defaultDeny = (input: PolicyInput, started: number): Decision => ({
    action: "deny",
    ruleId: DEFAULT_DENY_ID,
    reason: `no rule allows ${input.target} "${input.name}" (deny by default)`,
    permitted: false,
    matched: NOTHING,
    micros: (performance.now() - started) * 1000,
  });

  const decide = (rule: CompiledRule, input: PolicyInput, name: string, started: number): Decision => ({
    action: rule.verdict.action,
    ruleId: rule.verdict.ruleId,
    reason: rule.verdict.reason,
    permitted: rule.verdict.permitted,
    matched: rule.fixedMatched ?? rule.conditions.items.map((item) => (item.any.find((c) => c.holds(input, name)) ?? item.any[0]!).text),
    micros: (performance.now() - started) * 1000,
  });

  return {
    ruleCount: compiled.length,
    reads,
    evaluate(input) {
      const started = performance.now();
      const name = canonicalName(input.name);
      const index = indexes.get(input.target);
      if (index !== undefined) {
        for (const position of index.candidates(name)) {
          const rule = compiled[position]!;
          if (rule.glob.match(name) && rule.conditions.holds(input, name)) return decide(rule, input, name, started);
        }
      }
      return defaultDeny(input, started);
    },

    explain(input) {
      const started = performance.now();
      const name = canonicalName(input.name);
      const trace: TraceStep[] = [];
      for (const s of skipped) if (s.target === input.target) trace.push({ ruleId: s.id, outcome: s.outcome, detail: s.outcome });
      for (const rule of compiled) {
        if (rule.target !== input.target) continue;
        if (!rule.glob.match(name)) {
          trace.push({ ruleId: rule.id, outcome: "pattern did not match", detail: `"${name}" does not match ${JSON.stringify(rule.glob.source)}` });
          continue;
        }
        const failed = rule.conditions.items.find((item) => !item.any.some((c) => c.holds(input, name)));
        if (failed !== undefined) {
          const seen = failed.any.map((c) => `${c.text} (saw ${JSON.stringify(c.observe(input, name)) ?? "nothing"})`).join(" or ");
          trace.push({ ruleId: rule.id, outcome: "condition failed", detail: seen });
          continue;
        }
        const decision = decide(rule, input, name, started);
        trace.push({ ruleId: rule.id, outcome: "matched", detail: decision.matched.length === 0 ? "no conditions" : decision.matched.join(" and ") });
        return { decision, trace };
      }
      const decision = defaultDeny(input, started);
      trace.push({ ruleId: DEFAULT_DENY_ID, outcome: "matched", detail: "no rule matched" });
      return { decision, trace };
    },

    mayPermit(input) {
      const name = canonicalName(input.name);
      const index = indexes.get(input.target);
      if (index === undefined) return false;
      const known = (kind: InputKind | undefined) => kind === undefined || (kind === "args" ? input.args !== undefined : kind === "time" || kind === "ip");
      for (const position of [...index.candidates(name)]) {
        const rule = compiled[position]!;
        if (!rule.glob.match(name)) continue;
        const state = triState(rule.conditions, input, name, known);
        if (state === "false") continue;
        if (state === "true") return rule.verdict.permitted;
        // Unknown: an allow that might hold means the name may be callable; a deny that might
        // hold may also not hold, so later rules still get their say.
        if (rule.verdict.permitted) return true;
      }
      return false;
    },
  };
}

function compileRule(rule: PolicyConfig, index: number): CompiledRule {
  let glob: GlobMatcher;
  try {
    glob = compileGlob(rule.pattern);
  } catch (err) {
    if (err instanceof GlobSyntaxError) throw new PolicyRuleError(index, "pattern", err.message);
    throw err;
  }
  let conditions: CompiledConditions;
  try {
    conditions = compileConditions(rule.conditions ?? []);
  } catch (err) {
    if (!(err instanceof ConditionError)) throw err;
    const group = err.groupIndex === undefined ? "" : `.anyOf[${err.groupIndex}]`;
    throw new PolicyRuleError(index, `conditions[${err.index}]${group}.${err.part}`, err.message);
  }
  const fixedMatched = conditions.items.every((item) => item.any.length === 1) ? Object.freeze(conditions.items.map((item) => item.any[0]!.text)) : undefined;
  return { id: rule.id, target: rule.target, glob, conditions, verdict: verdictFor(rule), fixedMatched };
}

function inScope(rule: PolicyConfig, environment: string | undefined): boolean {
  const wanted = rule.scope?.environment;
  if (wanted === undefined || environment === undefined) return true;
  return (Array.isArray(wanted) ? wanted : [wanted]).includes(environment);
}

function verdictFor(rule: PolicyConfig): Omit<Decision, "matched" | "micros"> {
  const why = rule.description ? `: ${rule.description}` : "";
  switch (rule.action) {
    case "allow":
    case "alert":
    case "redact":
      return { action: rule.action, ruleId: rule.id, permitted: true, reason: `allowed by rule "${rule.id}"${why}` };
    case "deny":
      return { action: "deny", ruleId: rule.id, permitted: false, reason: `denied by rule "${rule.id}"${why}` };
    case "confirm":
      // Human approval has no flow yet, so a confirm rule must refuse rather than let the call
      // through unapproved.
      return {
        action: "confirm",
        ruleId: rule.id,
        permitted: false,
        reason: `rule "${rule.id}" requires human approval, which is not available on this gateway${why}`,
      };
  }
}

type Tri = "true" | "false" | "unknown";

function triState(conditions: CompiledConditions, input: PolicyInput, name: string, known: (k: InputKind | undefined) => boolean): Tri {
  let result: Tri = "true";
  for (const item of conditions.items) {
    let itemState: Tri = "false";
    for (const c of item.any) {
      if (!known(c.reads)) itemState = "unknown";
      else if (c.holds(input, name)) {
        itemState = "true";
        break;
      }
    }
    if (itemState === "false") return "false";
    if (itemState === "unknown") result = "unknown";
  }
  return result;
}
