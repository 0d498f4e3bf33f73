import { describe, expect, it } from "vitest";
import type { ConditionConfig, PolicyConfig, PolicyTarget } from "../../engine/config/types.js";
import type { Metadata } from "../../engine/auth/identity.js";
import { canonicalName } from "../../engine/policy/canonical.js";
import { compileGlob, GlobSyntaxError } from "../../engine/policy/glob.js";
import { compilePolicy, DEFAULT_DENY_ID, PolicyRuleError, type PolicyInput } from "../../engine/policy/compile-policy.js";

type Condition = NonNullable<PolicyConfig["conditions"]>[number];

const rule = (id: string, pattern: string, action: PolicyConfig["action"], extra: Partial<PolicyConfig> = {}): PolicyConfig => ({
  id,
  target: "mcp.tool",
  pattern,
  action,
  ...extra,
});

const input = (name: string, extra: Partial<PolicyInput> = {}): PolicyInput => ({
  tenant: "acme",
  user: "alice",
  metadata: { role: "developer" },
  connection: "github-prod",
  target: "mcp.tool",
  name,
  ...extra,
});

const decide = (rules: PolicyConfig[], name: string, extra: Partial<PolicyInput> = {}) => compilePolicy(rules).evaluate(input(name, extra));

describe("rule order: the first matching rule wins", () => {
  it.each<[string, PolicyConfig[], string, string]>([
    ["an earlier deny beats a later allow-all", [rule("no-repo", "repo.*", "deny"), rule("all", "*", "allow")], "repo.read", "no-repo"],
    ["an earlier allow-all beats a later deny", [rule("all", "*", "allow"), rule("no-delete", "repo.delete", "deny")], "repo.delete", "all"],
    [
      "a rule whose pattern does not match is passed over",
      [rule("stripe", "stripe.*", "deny"), rule("all", "*", "allow")],
      "repo.read",
      "all",
    ],
    [
      "`order` moves a rule ahead of rules above it in the file",
      [rule("all", "*", "allow"), rule("no-delete", "repo.delete", "deny", { order: -1 })],
      "repo.delete",
      "no-delete",
    ],
    [
      "a positive `order` moves a rule behind rules below it in the file",
      [rule("no-delete", "repo.delete", "deny", { order: 10 }), rule("all", "*", "allow")],
      "repo.delete",
      "all",
    ],
    [
      "equal `order` falls back to position in the file",
      [rule("first", "repo.*", "deny", { order: 5 }), rule("second", "repo.*", "allow", { order: 5 })],
      "repo.read",
      "first",
    ],
    [
      "an unset `order` counts as 0",
      [rule("later", "repo.*", "allow", { order: 1 }), rule("unset", "repo.*", "deny"), rule("earlier", "repo.*", "alert", { order: -1 })],
      "repo.read",
      "earlier",
    ],
    [
      "a disabled rule is skipped",
      [rule("no-delete", "repo.delete", "deny", { enabled: false }), rule("all", "*", "allow")],
      "repo.delete",
      "all",
    ],
    [
      "an explicitly enabled rule applies",
      [rule("no-delete", "repo.delete", "deny", { enabled: true }), rule("all", "*", "allow")],
      "repo.delete",
      "no-delete",
    ],
    [
      "a rule for another target does not apply to tools",
      [rule("res", "repo.delete", "deny", { target: "mcp.resource" }), rule("all", "*", "allow")],
      "repo.delete",
      "all",
    ],
    [
      "a matching rule whose conditions fail is passed over",
      [rule("admins", "repo.*", "allow", { conditions: [{ field: "role", op: "eq", value: "admin" }] }), rule("fallback", "*", "alert")],
      "repo.read",
      "fallback",
    ],
  ])("%s", (_label, rules, name, expected) => {
    expect(decide(rules, name).ruleId).toBe(expected);
  });

  it("ruleCount counts only enabled rules", () => {
    const policy = compilePolicy([rule("a", "*", "allow"), rule("b", "*", "deny", { enabled: false }), rule("c", "x", "deny")]);
    expect(policy.ruleCount).toBe(2);
  });
});

describe("exact-name and wildcard rules interleave in rule order", () => {
  const adminOnly: Condition[] = [{ field: "role", op: "eq", value: "admin" }];
  it.each<[string, PolicyConfig[], string, string]>([
    ["a wildcard above an exact rule wins", [rule("wild", "*.delete", "deny"), rule("exact", "repo.delete", "allow")], "repo.delete", "wild"],
    ["an exact rule above a wildcard wins", [rule("exact", "repo.delete", "allow"), rule("wild", "*.delete", "deny")], "repo.delete", "exact"],
    [
      "an exact rule between two wildcards is taken after the first and before the second",
      [rule("w1", "stripe.*", "deny"), rule("exact", "repo.delete", "alert"), rule("w2", "*", "allow")],
      "repo.delete",
      "exact",
    ],
    [
      "a wildcard whose conditions fail lets the exact rule below it decide",
      [rule("wild", "*.delete", "allow", { conditions: adminOnly }), rule("exact", "repo.delete", "deny"), rule("all", "*", "allow")],
      "repo.delete",
      "exact",
    ],
    [
      "an exact rule whose conditions fail lets the wildcard below it decide",
      [rule("exact", "repo.delete", "allow", { conditions: adminOnly }), rule("wild", "*.delete", "deny"), rule("all", "*", "allow")],
      "repo.delete",
      "wild",
    ],
    [
      "of two exact rules for one name, the second decides when the first's conditions fail",
      [rule("e1", "repo.delete", "allow", { conditions: adminOnly }), rule("e2", "repo.delete", "redact"), rule("all", "*", "deny")],
      "repo.delete",
      "e2",
    ],
    [
      "`order` puts an exact rule from the bottom of the file ahead of wildcards",
      [rule("w1", "*.delete", "allow"), rule("w2", "*", "allow"), rule("exact", "repo.delete", "deny", { order: -1 })],
      "repo.delete",
      "exact",
    ],
    [
      "an exact rule for another name never matches",
      [rule("exact", "repo.read", "deny"), rule("all", "*", "allow")],
      "repo.delete",
      "all",
    ],
    [
      "a brace pattern of literal names behaves like a wildcard in rule order",
      [rule("braces", "{repo.delete,repo.archive}", "deny"), rule("exact", "repo.archive", "allow")],
      "repo.archive",
      "braces",
    ],
    [
      "an escaped star is an exact name, not a wildcard",
      [rule("literal-star", "repo.\\*", "deny"), rule("all", "*", "allow")],
      "repo.*",
      "literal-star",
    ],
    [
      "an escaped star does not match other names",
      [rule("literal-star", "repo.\\*", "deny"), rule("all", "*", "allow")],
      "repo.delete",
      "all",
    ],
  ])("%s", (_label, rules, name, expected) => {
    expect(decide(rules, name).ruleId).toBe(expected);
  });
});

describe("deny by default", () => {
  it.each<[string, PolicyConfig[], Partial<PolicyInput>]>([
    ["an empty policy denies everything", [], {}],
    ["rules for other names deny the rest", [rule("read", "repo.read", "allow"), rule("stripe", "stripe.*", "allow")], {}],
    ["rules for another target deny this one", [rule("prompts", "*", "allow", { target: "mcp.prompt" })], {}],
    ["rules whose conditions all fail deny", [rule("admins", "*", "allow", { conditions: [{ field: "role", op: "eq", value: "admin" }] })], {}],
    ["only disabled rules deny", [rule("all", "*", "allow", { enabled: false })], {}],
  ])("%s, with rule id default-deny", (_label, rules, extra) => {
    const decision = decide(rules, "repo.delete", extra);
    expect(decision).toMatchObject({
      action: "deny",
      ruleId: DEFAULT_DENY_ID,
      permitted: false,
      matched: [],
      reason: 'no rule allows mcp.tool "repo.delete" (deny by default)',
    });
    expect(decision.micros).toBeGreaterThanOrEqual(0);
    expect(DEFAULT_DENY_ID).toBe("default-deny");
  });

  it.each<[PolicyTarget, string]>([
    ["mcp.resource", "repo://acme/readme"],
    ["mcp.prompt", "summarise"],
    ["llm.model", "gpt-x"],
  ])("the default-deny reason names the %s target and the name as sent (%s)", (target, name) => {
    const decision = decide([], name, { target });
    expect(decision.reason).toBe(`no rule allows ${target} "${name}" (deny by default)`);
  });

  it("the default-deny reason quotes the name as the caller sent it, not its canonical form", () => {
    expect(decide([], "Repo.Delete").reason).toContain('"Repo.Delete"');
  });
});

describe("actions", () => {
  it.each<[PolicyConfig["action"], boolean]>([
    ["allow", true],
    ["alert", true],
    ["redact", true],
    ["deny", false],
    ["confirm", false],
  ])("a matching %s rule gives permitted=%s", (action, permitted) => {
    const decision = decide([rule("r1", "*", action, { description: "why not" })], "repo.read");
    expect(decision).toMatchObject({ action, ruleId: "r1", permitted });
    expect(decision.reason).toContain('"r1"');
    expect(decision.reason).toContain("why not");
  });

  it.each<[string, Partial<PolicyConfig>]>([
    ["without conditions", {}],
    ["with conditions that hold", { conditions: [{ field: "role", op: "eq", value: "developer" }] }],
    ["placed before an allow-all", {}],
  ])("a confirm rule never lets the call through (%s)", (_label, extra) => {
    const decision = decide([rule("ask", "repo.*", "confirm", extra), rule("all", "*", "allow")], "repo.delete");
    expect(decision.permitted).toBe(false);
    expect(decision.action).toBe("confirm");
    expect(decision.reason).toMatch(/human approval/);
  });

  it.each<[PolicyConfig["action"], RegExp]>([
    ["allow", /^allowed by rule "r1"$/],
    ["deny", /^denied by rule "r1"$/],
  ])("a %s rule without a description gives a reason with no trailing separator", (action, reason) => {
    expect(decide([rule("r1", "*", action)], "x").reason).toMatch(reason);
  });
});

describe("glob patterns", () => {
  it.each<[string, string, boolean]>([
    // `*` matches any run, dots included
    ["*", "repo.delete", true],
    ["*", "", true],
    ["stripe.*", "stripe.charge.create", true],
    ["stripe.*", "stripe.", true],
    ["stripe.*", "stripe", false],
    ["*.delete", "repo.delete", true],
    ["*.delete", "a.b.c.delete", true],
    ["*.delete", "repo.deleted", false],
    ["a*b*c", "aXXbYYc", true],
    ["a*b*c", "aXbYcd", false],
    ["a**b", "a..b", true],
    // `?` matches exactly one character
    ["?", "a", true],
    ["?", "", false],
    ["?", "ab", false],
    ["repo.?ead", "repo.read", true],
    ["repo.?ead", "repo.ead", false],
    ["???", "a.b", true],
    // classes
    ["[a-c]x", "bx", true],
    ["[a-c]x", "dx", false],
    ["[abc]x", "cx", true],
    ["[abc]x", "dx", false],
    ["v[0-9]", "v7", true],
    ["v[0-9]", "vx", false],
    ["[!a]x", "bx", true],
    ["[!a]x", "ax", false],
    ["[^a]x", "bx", true],
    ["[!a-c]x", "dx", true],
    ["[!a-c]x", "bx", false],
    ["[a-]", "-", true],
    ["[]]", "]", true],
    ["[a-z]", "", false],
    // alternatives
    ["{repo,stripe}.read", "stripe.read", true],
    ["{repo,stripe}.read", "jira.read", false],
    ["{delete_*,*.delete}", "delete_repo", true],
    ["{delete_*,*.delete}", "repo.delete", true],
    ["{delete_*,*.delete}", "repo.read", false],
    ["x{,y}", "x", true],
    ["x{,y}", "xy", true],
    ["{a,b}{c,d}", "bd", true],
    ["{a,b}{c,d}", "ab", false],
    // escapes
    ["\\*", "*", true],
    ["\\*", "a", false],
    ["a\\?", "a?", true],
    ["a\\?", "ab", false],
    ["\\[x]", "[x]", true],
    ["\\{a,b\\}", "{a,b}", true],
    ["\\{a,b\\}", "a", false],
    ["{a\\,b,c}", "a,b", true],
    ["{a\\,b,c}", "c", true],
    // patterns are canonicalised like names
    ["*.DELETE", "repo.delete", true],
    ["[A-C]", "b", true],
    ["Repo.Read", "repo.read", true],
  ])("%j matches %j: %s", (pattern, name, expected) => {
    expect(compileGlob(pattern).match(name)).toBe(expected);
  });

  it.each<[string, string | undefined]>([
    ["repo.delete", "repo.delete"],
    ["Repo.Delete", "repo.delete"],
    ["repo.\\*", "repo.*"],
    ["{repo.delete}", "repo.delete"],
    ["repo.*", undefined],
    ["repo.?", undefined],
    ["[r]epo", undefined],
    ["{a,b}", undefined],
  ])("%j has exact name %j", (pattern, exact) => {
    expect(compileGlob(pattern).exact).toBe(exact);
  });

  it("keeps the pattern as written in `source`", () => {
    expect(compileGlob("Repo.*").source).toBe("Repo.*");
  });

  it.each<[string, RegExp]>([
    ["{a,b", /unclosed "\{"/],
    ["repo.{read", /unclosed "\{"/],
    ["a}", /unbalanced "\}"/],
    ["[ab", /unclosed "\["/],
    ["a\\", /trailing "\\"/],
    ["{a{b}}", /nested "\{"/],
    ["{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}", /more than 64 alternatives/],
  ])("%j is a GlobSyntaxError (%s)", (pattern, message) => {
    expect(() => compileGlob(pattern)).toThrow(GlobSyntaxError);
    expect(() => compileGlob(pattern)).toThrow(message);
  });

  it.each<[string, PolicyConfig[], number]>([
    ["the third rule", [rule("a", "x", "allow"), rule("b", "y", "allow"), rule("c", "{a,b", "allow")], 2],
    ["the first rule", [rule("a", "[x", "allow"), rule("b", "y", "allow")], 0],
    ["a rule moved up by `order`, by its position in the file", [rule("a", "x", "allow"), rule("b", "{a", "deny", { order: -5 })], 1],
  ])("a bad glob in %s is a PolicyRuleError naming its index", (_label, rules, index) => {
    let caught: unknown;
    try {
      compilePolicy(rules);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PolicyRuleError);
    expect((caught as PolicyRuleError).index).toBe(index);
    expect((caught as PolicyRuleError).message).toMatch(/^(unclosed|unbalanced|nested|trailing)/);
  });

  it.each<{ pattern: string; name: string; expected: boolean }>([
    { pattern: "*a*a*a*a*a*b", name: "a".repeat(10_000), expected: false },
    { pattern: "*a*a*a*a*a*b", name: "a".repeat(10_000) + "b", expected: true },
    { pattern: "*?*?*?*?*?*?*?*?*x", name: "a".repeat(10_000), expected: false },
    { pattern: "*a*b*c*d*e*f*g*h*i*j*k*z", name: "abcdefghijk".repeat(1_000), expected: false },
    { pattern: "{*a*a*a*b,*a*a*a*c}", name: "a".repeat(10_000), expected: false },
  ])("the pathological pattern $pattern against a 10k-character name gives $expected", ({ pattern, name, expected }) => {
    expect(compileGlob(pattern).match(name)).toBe(expected);
  });

  it("a pathological pattern inside a policy still decides (deny by default)", () => {
    const decision = decide([rule("slow", "*a*a*a*a*a*b", "allow")], "a".repeat(10_000));
    expect(decision.ruleId).toBe(DEFAULT_DENY_ID);
  });
});

describe("conditions", () => {
  const metadata: Metadata = {
    role: "developer",
    dept: "eng",
    level: 3,
    oncall: true,
    groups: ["eng", "ops"],
  };
  const evaluate = (conditions: Condition[], extra: Partial<PolicyInput> = {}) =>
    compilePolicy([rule("r", "*", "allow", { conditions })]).evaluate(input("repo.read", { metadata, ...extra })).permitted;
  const c = (field: string, op: ConditionConfig["op"], value?: unknown): ConditionConfig =>
    value === undefined ? { field, op } : { field, op, value };

  it.each<[string, Condition[], boolean]>([
    // user, tenant, connection, name
    ["user eq the stated user holds", [c("user", "eq", "alice")], true],
    ["user eq another user fails", [c("user", "eq", "bob")], false],
    ["user neq another user holds", [c("user", "neq", "bob")], true],
    ["tenant eq the key's tenant holds", [c("tenant", "eq", "acme")], true],
    ["tenant in a list without it fails", [c("tenant", "in", ["globex", "initech"])], false],
    ["connection eq the connection holds", [c("connection", "eq", "github-prod")], true],
    ["connection nin a list with it fails", [c("connection", "nin", ["github-prod"])], false],
    ["name eq the canonical name holds", [c("name", "eq", "repo.read")], true],
    ["name eq compares canonically", [c("name", "eq", "Repo.Read")], true],
    ["name neq another name holds", [c("name", "neq", "repo.delete")], true],
    // role
    ["role eq the stated role holds", [c("role", "eq", "developer")], true],
    ["role eq compares canonically (Developer vs developer)", [c("role", "eq", "Developer")], true],
    ["role in a list with it holds", [c("role", "in", ["admin", "developer"])], true],
    ["role in compares canonically", [c("role", "in", ["ADMIN", "DEVELOPER"])], true],
    ["role nin a list with it fails", [c("role", "nin", ["developer"])], false],
    ["role nin a list without it holds", [c("role", "nin", ["admin"])], true],
    ["role neq another role holds", [c("role", "neq", "admin")], true],
    ["metadata.role is the same field as role", [c("metadata.role", "eq", "developer")], true],
    // metadata scalars
    ["metadata.dept eq holds", [c("metadata.dept", "eq", "eng")], true],
    ["metadata.level eq a number holds", [c("metadata.level", "eq", 3)], true],
    ["metadata.level eq the number written as a string holds (numeric literal)", [c("metadata.level", "eq", "3")], true],
    ["metadata.level eq another number as a string fails", [c("metadata.level", "eq", "4")], false],
    ["metadata.level in numbers holds", [c("metadata.level", "in", [1, 2, 3])], true],
    ["metadata.oncall eq true holds", [c("metadata.oncall", "eq", true)], true],
    ["metadata.oncall eq false fails", [c("metadata.oncall", "eq", false)], false],
    // list-valued metadata
    ["a list eq one of its items holds", [c("metadata.groups", "eq", "ops")], true],
    ["a list eq an item it lacks fails", [c("metadata.groups", "eq", "sales")], false],
    ["a list in a set sharing an item holds", [c("metadata.groups", "in", ["sales", "eng"])], true],
    ["a list in a disjoint set fails", [c("metadata.groups", "in", ["sales"])], false],
    ["a list neq one of its items fails", [c("metadata.groups", "neq", "eng")], false],
    ["a list neq an item it lacks holds", [c("metadata.groups", "neq", "sales")], true],
    ["a list nin a set sharing an item fails", [c("metadata.groups", "nin", ["ops"])], false],
    ["a list nin a disjoint set holds", [c("metadata.groups", "nin", ["sales"])], true],
    ["a list item compares canonically", [c("metadata.groups", "eq", "OPS")], true],
    // missing fields
    ["eq on a missing field fails", [c("metadata.team", "eq", "x")], false],
    ["neq on a missing field holds", [c("metadata.team", "neq", "x")], true],
    ["in on a missing field fails", [c("metadata.team", "in", ["x"])], false],
    ["nin on a missing field holds", [c("metadata.team", "nin", ["x"])], true],
    ["exists on a missing field fails", [c("metadata.team", "exists")], false],
    ["exists true on a missing field fails", [c("metadata.team", "exists", true)], false],
    ["exists false on a missing field holds", [c("metadata.team", "exists", false)], true],
    ["exists on a present field holds", [c("metadata.dept", "exists")], true],
    ["exists false on a present field fails", [c("metadata.dept", "exists", false)], false],
    ["exists on user holds when a user is stated", [c("user", "exists")], true],
    ["metadata.constructor does not read inherited properties", [c("metadata.constructor", "exists")], false],
    ["metadata.toString eq does not read inherited properties", [c("metadata.toString", "neq", "x")], true],
    // combinations
    ["all top-level conditions must hold (one fails)", [c("role", "eq", "developer"), c("user", "eq", "bob")], false],
    ["all top-level conditions must hold (all hold)", [c("role", "eq", "developer"), c("user", "eq", "alice")], true],
    ["anyOf holds when one member holds", [{ anyOf: [c("role", "eq", "admin"), c("user", "eq", "alice")] }], true],
    ["anyOf fails when no member holds", [{ anyOf: [c("role", "eq", "admin"), c("user", "eq", "bob")] }], false],
    [
      "anyOf is ANDed with the other conditions",
      [{ anyOf: [c("role", "eq", "admin"), c("role", "eq", "developer")] }, c("metadata.dept", "eq", "sales")],
      false,
    ],
    [
      "two anyOf groups must each hold",
      [{ anyOf: [c("role", "eq", "developer")] }, { anyOf: [c("metadata.oncall", "eq", true), c("user", "eq", "bob")] }],
      true,
    ],
    ["no conditions always hold", [], true],
  ])("%s", (_label, conditions, expected) => {
    expect(evaluate(conditions)).toBe(expected);
  });

  it.each<[string, Condition[], Partial<PolicyInput>, boolean]>([
    ["exists on user fails when no user is stated", [c("user", "exists")], { user: undefined }, false],
    ["neq on a missing user holds", [c("user", "neq", "alice")], { user: undefined }, true],
    ["role eq fails when no role is stated", [c("role", "eq", "developer")], { metadata: {} }, false],
    ["a stated role with a Cyrillic е still matches developer", [c("role", "eq", "developer")], { metadata: { role: "d\u0435veloper" } }, true],
    ["a stated role in full-width letters still matches admin", [c("role", "eq", "admin")], { metadata: { role: "\uFF41\uFF44\uFF4D\uFF49\uFF4E" } }, true],
  ])("%s", (_label, conditions, extra, expected) => {
    expect(evaluate(conditions, extra)).toBe(expected);
  });
});

describe("canonicalisation: look-alike names cannot slip past a deny rule", () => {
  const rules = [rule("no-repo-delete", "repo.delete", "deny"), rule("allow-all", "*", "allow")];

  it.each<[string, string]>([
    ["mixed case", "Repo.Delete"],
    ["upper case", "REPO.DELETE"],
    ["a trailing space", "repo.delete "],
    ["a leading tab", "\trepo.delete"],
    ["a trailing newline", "repo.delete\n"],
    ["a trailing no-break space", "repo.delete\u00A0"],
    ["a zero-width space inside", "repo.de\u200Blete"],
    ["a zero-width joiner inside", "repo.de\u200Dlete"],
    ["a zero-width non-joiner inside", "re\u200Cpo.delete"],
    ["a word joiner inside", "re\u2060po.delete"],
    ["a byte-order mark in front", "\uFEFFrepo.delete"],
    ["a right-to-left override (U+202E) in front", "\u202Erepo.delete"],
    ["a right-to-left override wrapped with a pop", "repo.\u202Edelete\u202C"],
    ["a left-to-right isolate inside", "repo.\u2066delete\u2069"],
    ["full-width letters", "\uFF52\uFF45\uFF50\uFF4F.delete"],
    ["a full-width full stop", "repo\uFF0Edelete"],
    ["mathematical bold letters", "\u{1D42B}\u{1D41E}\u{1D429}\u{1D428}.delete"],
    ["mathematical italic letters", "repo.\u{1D451}\u{1D452}\u{1D459}\u{1D452}\u{1D461}\u{1D452}"],
    ["a Cyrillic е", "r\u0435po.delete"],
    ["Cyrillic е throughout", "repo.d\u0435l\u0435t\u0435"],
    ["a Cyrillic о", "rep\u043E.delete"],
    ["a Cyrillic р", "re\u0440o.delete"],
    ["Cyrillic р, е and о together", "r\u0435\u0440\u043E.delete"],
    ["an upper-case Cyrillic Е", "R\u0415PO.DELETE"],
    ["a Greek ο", "rep\u03BF.delete"],
    ["an upper-case Greek Ο", "REP\u039F.DELETE"],
    ["a soft hyphen inside", "repo.de\u00ADlete"],
    ["a combining grapheme joiner inside", "repo.de\u034Flete"],
    ["a variation selector inside", "repo.dele\uFE0Fte"],
    ["a tag character inside", "re\u{E0041}po.delete"],
    ["a one-dot leader for the dot", "repo\u2024delete"],
  ])("a name with %s cannot slip past a rule for repo.delete", (_label, name) => {
    const decision = decide(rules, name);
    expect(decision.ruleId).toBe("no-repo-delete");
    expect(decision.permitted).toBe(false);
  });

  it.each<[string, string]>([
    ["a Cyrillic е", "r\u0435po.delete"],
    ["a zero-width space", "repo.de\u200Blete"],
    ["full-width letters", "\uFF52\uFF45\uFF50\uFF4F.delete"],
  ])("a name with %s cannot slip past a wildcard deny rule for *.delete", (_label, name) => {
    expect(decide([rule("no-deletes", "*.delete", "deny"), rule("allow-all", "*", "allow")], name).ruleId).toBe("no-deletes");
  });

  it.each<[string, string]>([
    ["the plain read", "repo.read"],
    ["a longer name", "repo.deletes"],
    ["a different separator", "repo_delete"],
  ])("the deny rule does not over-match %s (%s)", (_label, name) => {
    expect(decide(rules, name).ruleId).toBe("allow-all");
  });

  it.each<[string, string]>([
    ["upper case in the rule", "REPO.DELETE"],
    ["a Cyrillic е in the rule", "r\u0435po.delete"],
    ["surrounding spaces in the rule", "  repo.delete  "],
  ])("a rule written with %s still catches the plain name", (_label, pattern) => {
    expect(decide([rule("no", pattern, "deny"), rule("allow-all", "*", "allow")], "repo.delete").ruleId).toBe("no");
  });
});

describe("canonicalName", () => {
  it.each<string>(["repo.delete", "stripe.charge.create", "a b", "repo://acme/readme", "x_1-2@3", "", "!~{}[]\\|"])(
    "returns the plain-ASCII name %j itself",
    (name) => {
      expect(canonicalName(name)).toBe(name);
    },
  );

  it.each<[string, string]>([
    ["Repo.Delete", "repo.delete"],
    ["  a   b  ", "a b"],
    ["a\t\nb", "a b"],
    ["a  b", "a b"],
    [" a", "a"],
    ["\uFB01le.read", "file.read"],
    ["x\u00B2", "x2"],
    ["repo\u2014delete", "repo-delete"],
    ["\u0410\u0412\u0421", "abc"],
  ])("canonicalises %j to %j", (name, expected) => {
    expect(canonicalName(name)).toBe(expected);
  });

  it.each<string>(["Repo.Delete", "r\u0435po.delete", "\uFF52\uFF45\uFF50\uFF4F", " a  b ", "\u202Eabc"])("is idempotent on %j", (name) => {
    const once = canonicalName(name);
    expect(canonicalName(once)).toBe(once);
  });
});
