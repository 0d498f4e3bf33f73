/**
 * Policy rules, compiled once per publish and evaluated per call.
 *
 * First match wins, in ascending `order` then file position; when nothing matches the decision
 * is `deny` with rule id `default-deny`. Names and compared string values are canonicalised
 * (canonical.ts) on both sides, so look-alike spellings cannot slip past a rule.
 */
import type { ConditionConfig, PolicyAction, PolicyConfig, PolicyTarget } from "../config/types.js";
import type { Metadata, MetadataValue } from "../auth/identity.js";
import { canonicalName } from "./canonical.js";
import { compileGlob, GlobSyntaxError, type GlobMatcher } from "./glob.js";

/** A rule that cannot compile; `index` is its position in the list given to compilePolicy. */
export class PolicyRuleError extends Error {
  override readonly name = "PolicyRuleError";
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}

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
}

type Predicate = (input: PolicyInput, name: string) => boolean;

interface CompiledRule {
  readonly id: string;
  readonly position: number;
  readonly glob: GlobMatcher;
  readonly when: Predicate;
  readonly decision: Decision;
}

interface TargetIndex {
  readonly byName: Map<string, CompiledRule[]>;
  readonly wildcard: CompiledRule[];
}

export interface CompiledPolicy {
  readonly ruleCount: number;
  evaluate(input: PolicyInput): Decision;
}

export const DEFAULT_DENY_ID = "default-deny";

export function compilePolicy(rules: readonly PolicyConfig[]): CompiledPolicy {
  const ordered = rules
    .map((rule, index) => ({ rule, index }))
    .filter(({ rule }) => rule.enabled !== false)
    .sort((a, b) => (a.rule.order ?? 0) - (b.rule.order ?? 0) || a.index - b.index);

  const targets = new Map<PolicyTarget, TargetIndex>();
  ordered.forEach(({ rule, index: sourceIndex }, position) => {
    let glob: GlobMatcher;
    try {
      glob = compileGlob(rule.pattern);
    } catch (err) {
      if (err instanceof GlobSyntaxError) throw new PolicyRuleError(sourceIndex, err.message);
      throw err;
    }
    const compiled: CompiledRule = {
      id: rule.id,
      position,
      glob,
      when: compileConditions(rule.conditions ?? []),
      decision: decisionFor(rule),
    };
    let index = targets.get(rule.target);
    if (index === undefined) targets.set(rule.target, (index = { byName: new Map(), wildcard: [] }));
    if (compiled.glob.exact !== undefined) {
      const list = index.byName.get(compiled.glob.exact) ?? [];
      list.push(compiled);
      index.byName.set(compiled.glob.exact, list);
    } else {
      index.wildcard.push(compiled);
    }
  });

  return {
    ruleCount: ordered.length,
    evaluate(input) {
      const name = canonicalName(input.name);
      const index = targets.get(input.target);
      if (index !== undefined) {
        // Exact-name rules and wildcard rules are each in rule order; walk both lists together
        // so the first match overall wins without checking every rule.
        const exact = index.byName.get(name) ?? NONE;
        const wild = index.wildcard;
        let e = 0;
        let w = 0;
        while (e < exact.length || w < wild.length) {
          const takeExact = w >= wild.length || (e < exact.length && exact[e]!.position < wild[w]!.position);
          const rule = takeExact ? exact[e++]! : wild[w++]!;
          if ((takeExact || rule.glob.match(name)) && rule.when(input, name)) return rule.decision;
        }
      }
      return {
        action: "deny",
        ruleId: DEFAULT_DENY_ID,
        permitted: false,
        reason: `no rule allows ${input.target} "${input.name}" (deny by default)`,
      };
    },
  };
}

const NONE: CompiledRule[] = [];

function decisionFor(rule: PolicyConfig): Decision {
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

function compileConditions(items: NonNullable<PolicyConfig["conditions"]>): Predicate {
  const all = items.map((item) => {
    if ("anyOf" in item) {
      const any = item.anyOf.map(compileCondition);
      return (input: PolicyInput, name: string) => any.some((p) => p(input, name));
    }
    return compileCondition(item);
  });
  if (all.length === 0) return () => true;
  return (input, name) => all.every((p) => p(input, name));
}

type Value = MetadataValue | undefined;

function fieldReader(field: string): (input: PolicyInput, name: string) => Value {
  switch (field) {
    case "user":
      return (i) => i.user;
    case "tenant":
      return (i) => i.tenant;
    case "connection":
      return (i) => i.connection;
    case "name":
      return (_, name) => name;
    case "role":
      return (i) => i.metadata.role;
    default: {
      const key = field.slice("metadata.".length);
      return (i) => (Object.hasOwn(i.metadata, key) ? i.metadata[key] : undefined);
    }
  }
}

/** Strings compare canonically; numbers and booleans by value. */
const norm = (v: unknown): unknown => (typeof v === "string" ? canonicalName(v) : v);

function compileCondition(cond: ConditionConfig): Predicate {
  const read = fieldReader(cond.field);
  switch (cond.op) {
    case "exists": {
      const want = cond.value !== false;
      return (i, n) => (read(i, n) !== undefined) === want;
    }
    case "eq":
    case "neq": {
      const expected = norm(cond.value);
      const negate = cond.op === "neq";
      return (i, n) => {
        const v = read(i, n);
        // A missing field never equals anything, and so a `neq` on it holds.
        const hit = Array.isArray(v) ? v.some((x) => norm(x) === expected) : v !== undefined && norm(v) === expected;
        return hit !== negate;
      };
    }
    case "in":
    case "nin": {
      const set = new Set((cond.value as unknown[]).map(norm));
      const negate = cond.op === "nin";
      return (i, n) => {
        const v = read(i, n);
        const hit = Array.isArray(v) ? v.some((x) => set.has(norm(x))) : v !== undefined && set.has(norm(v));
        return hit !== negate;
      };
    }
  }
}
