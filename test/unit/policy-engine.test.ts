import { describe, expect, it } from "vitest";
import type { ConditionConfig, PolicyConfig } from "../../engine/config/types.js";
import { compilePolicy, PolicyRuleError, type PolicyInput } from "../../engine/policy/compile-policy.js";
import { replay, toInput, type RecordedCall } from "../../engine/policy/dry-run.js";
import { numericLiteral, parseLiteral } from "../../engine/policy/literals.js";
import { parseRecordedCalls, RecordedCallError } from "../../engine/policy/recorded-calls.js";

const base: PolicyInput = { tenant: "acme", user: "alice@acme.com", metadata: { role: "developer", department: "eng", teams: ["api", "web"] }, connection: "github-prod", target: "mcp.tool", name: "repo.read" };

/** Whether one condition holds for the input: an allow rule with it, before default deny. */
function holds(cond: ConditionConfig, extra: Partial<PolicyInput> = {}): boolean {
  const policy = compilePolicy([{ id: "r", target: "mcp.tool", pattern: "*", conditions: [cond], action: "allow" }]);
  return policy.evaluate({ ...base, ...extra }).permitted;
}

const monday0930 = Date.parse("2026-11-23T09:30:00Z");

describe("every operator", () => {
  it.each<[string, ConditionConfig, Partial<PolicyInput>, boolean]>([
    ["eq on a string", { field: "role", op: "eq", value: "developer" }, {}, true],
    ["eq is case- and look-alike-insensitive", { field: "role", op: "eq", value: "DEVЕLOPER" }, {}, true],
    ["neq", { field: "role", op: "neq", value: "admin" }, {}, true],
    ["in", { field: "metadata.department", op: "in", value: ["eng", "sec"] }, {}, true],
    ["nin", { field: "metadata.department", op: "nin", value: ["eng", "sec"] }, {}, false],
    ["gt with a dollar literal", { field: "args.amount", op: "gt", value: "$50" }, { args: { amount: 90 } }, true],
    ["gt fails at the bound", { field: "args.amount", op: "gt", value: "$50" }, { args: { amount: 50 } }, false],
    ["gte at the bound", { field: "args.amount", op: "gte", value: 50 }, { args: { amount: 50 } }, true],
    ["lt with a k literal", { field: "tokens.in", op: "lt", value: "4k" }, { tokens: { in: 3999, out: 0 } }, true],
    ["lte", { field: "tokens.total", op: "lte", value: 10 }, { tokens: { in: 6, out: 4 } }, true],
    ["between inclusive", { field: "args.n", op: "between", value: [1, 3] }, { args: { n: 3 } }, true],
    ["between outside", { field: "args.n", op: "between", value: [1, 3] }, { args: { n: 4 } }, false],
    ["between wraps round midnight", { field: "time.of_day", op: "between", value: ["22:00", "06:00"] }, { now: Date.parse("2026-11-23T23:15:00Z") }, true],
    ["between office hours", { field: "time.of_day", op: "between", value: ["09:00", "17:00"] }, { now: monday0930 }, true],
    ["contains a substring, canonically", { field: "args.sql", op: "contains", value: "drop table" }, { args: { sql: "select 1; DROP   TABLE users" } }, true],
    ["contains an element of a list", { field: "metadata.teams", op: "contains", value: "web" }, {}, true],
    ["startsWith", { field: "args.repo", op: "startsWith", value: "acme/" }, { args: { repo: "ACME/api" } }, true],
    ["endsWith", { field: "user", op: "endsWith", value: "@acme.com" }, {}, true],
    ["matches (RE2)", { field: "args.sql", op: "matches", value: "^\\s*(drop|truncate)\\b" }, { args: { sql: "  truncate users" } }, true],
    ["matches fails", { field: "args.sql", op: "matches", value: "^\\s*(drop|truncate)\\b" }, { args: { sql: "select 1" } }, false],
    ["glob", { field: "args.path", op: "glob", value: "/etc/*" }, { args: { path: "/etc/passwd" } }, true],
    ["exists", { field: "args.force", op: "exists" }, { args: { force: false } }, true],
    ["exists false on a missing field", { field: "args.force", op: "exists", value: false }, { args: {} }, true],
    ["cidr on IPv4", { field: "ip", op: "cidr", value: ["10.0.0.0/8", "192.168.0.0/16"] }, { sourceIp: "10.1.2.3" }, true],
    ["cidr on an IPv4-mapped IPv6 address", { field: "ip", op: "cidr", value: "10.0.0.0/8" }, { sourceIp: "::ffff:10.1.2.3" }, true],
    ["cidr on IPv6", { field: "ip", op: "cidr", value: "2001:db8::/32" }, { sourceIp: "2001:db8::1" }, true],
    ["cidr outside", { field: "ip", op: "cidr", value: "10.0.0.0/8" }, { sourceIp: "11.0.0.1" }, false],
  ])("%s", (_label, cond, extra, expected) => {
    expect(holds(cond, extra)).toBe(expected);
  });
});

describe("fields", () => {
  it.each<[string, ConditionConfig, Partial<PolicyInput>, boolean]>([
    ["args paths with indexes", { field: "args.items[1].sku", op: "eq", value: "b" }, { args: { items: [{ sku: "a" }, { sku: "b" }] } }, true],
    ["args paths never reach prototypes", { field: "args.constructor", op: "exists" }, { args: {} }, false],
    ["a missing argument fails eq", { field: "args.amount", op: "eq", value: 1 }, { args: {} }, false],
    ["a missing argument holds neq", { field: "args.amount", op: "neq", value: 1 }, { args: {} }, true],
    ["guard.<id> when that pattern matched", { field: "guard.us_ssn", op: "eq", value: true }, { findings: new Set(["us_ssn"]) }, true],
    ["guard exists only when something matched", { field: "guard", op: "exists" }, { findings: new Set() }, false],
    ["usage as a fraction", { field: "usage.rpm", op: "gte", value: "80%" }, { usage: () => ({ used: 81, limit: 100 }) }, true],
    ["usage.used in dollars", { field: "usage.spend.used", op: "gt", value: "$14" }, { usage: () => ({ used: 14.2, limit: 25 }) }, true],
    ["an unknown limit is missing", { field: "usage.nope", op: "exists" }, { usage: () => undefined }, false],
    ["time.weekday", { field: "time.weekday", op: "in", value: ["mon", "tue"] }, { now: monday0930 }, true],
    ["time.hour", { field: "time.hour", op: "eq", value: 9 }, { now: monday0930 }, true],
    ["connection", { field: "connection", op: "eq", value: "github-prod" }, {}, true],
    ["tenant", { field: "tenant", op: "eq", value: "acme" }, {}, true],
    ["target", { field: "target", op: "eq", value: "mcp.tool" }, {}, true],
  ])("%s", (_label, cond, extra, expected) => {
    expect(holds(cond, extra)).toBe(expected);
  });
});

describe("literals", () => {
  it.each<[string, unknown]>([
    ["$50", 50],
    ["$14.20", 14.2],
    ["25 USD", 25],
    ["4k", 4000],
    ["1.5M", 1_500_000],
    ["4096 tokens", 4096],
    ["80%", 0.8],
    ["09:30", 570],
    ["developer", "developer"],
  ])("%s reads as %s", (text, value) => {
    expect(parseLiteral(text)).toBe(value);
  });

  it("plain numeric strings are numbers for numeric operators", () => {
    expect(numericLiteral("12.5")).toBe(12.5);
    expect(numericLiteral("twelve")).toBeUndefined();
  });
});

describe("bad rules are refused with the path of the fault", () => {
  const rule = (conditions: PolicyConfig["conditions"]): PolicyConfig[] => [{ id: "r", target: "mcp.tool", pattern: "*", conditions, action: "allow" }];
  it.each<[string, PolicyConfig["conditions"], string, RegExp]>([
    ["a regex RE2 cannot compile (backreference)", [{ field: "args.x", op: "matches", value: "(a)\\1" }], "conditions[0].value", /not a valid RE2 expression/],
    ["a regex RE2 cannot compile (lookahead)", [{ field: "args.x", op: "matches", value: "a(?=b)" }], "conditions[0].value", /not a valid RE2 expression/],
    ["a bad CIDR", [{ field: "ip", op: "cidr", value: "10.0.0.0/33" }], "conditions[0].value", /cidr/],
    ["between with one bound", [{ field: "args.n", op: "between", value: [1] }], "conditions[0].value", /\[low, high\]/],
    ["gt with text", [{ field: "args.n", op: "gt", value: "lots" }], "conditions[0].value", /needs a number/],
    ["an unknown usage part", [{ field: "usage.x.spent", op: "gt", value: 1 }], "conditions[0].field", /usage fields/],
    ["a bad value inside anyOf", [{ anyOf: [{ field: "role", op: "exists" }, { field: "args.x", op: "glob", value: "{a" }] }], "conditions[0].anyOf[1].value", /unclosed/],
  ])("%s", (_label, conditions, path, message) => {
    let error: unknown;
    try {
      compilePolicy(rule(conditions));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyRuleError);
    expect((error as PolicyRuleError).path).toBe(path);
    expect((error as PolicyRuleError).message).toMatch(message);
  });

  it("a disabled rule is still checked", () => {
    expect(() => compilePolicy([{ id: "off", target: "mcp.tool", pattern: "{a", action: "allow", enabled: false }])).toThrow(PolicyRuleError);
  });
});

describe("decisions and explain traces", () => {
  const policy = compilePolicy([
    { id: "deny-prod-writes", target: "mcp.tool", pattern: "*.write", conditions: [{ field: "connection", op: "eq", value: "github-prod" }], action: "deny" },
    { id: "devs-read", target: "mcp.tool", pattern: "repo.*", conditions: [{ field: "role", op: "eq", value: "developer" }, { anyOf: [{ field: "metadata.department", op: "eq", value: "sec" }, { field: "metadata.department", op: "eq", value: "eng" }] }], action: "allow" },
  ]);

  it("a decision names its rule, its reason, and the conditions that held", () => {
    const d = policy.evaluate(base);
    expect(d).toMatchObject({ action: "allow", ruleId: "devs-read", permitted: true, matched: ['role eq "developer"', 'metadata.department eq "eng"'] });
    expect(d.micros).toBeGreaterThanOrEqual(0);
  });

  it("explain says, in order, why each rule did or did not match", () => {
    const { decision, trace } = policy.explain({ ...base, name: "repo.write" });
    expect(decision.ruleId).toBe("deny-prod-writes");
    expect(trace.map((s) => [s.ruleId, s.outcome])).toEqual([["deny-prod-writes", "matched"]]);
    const other = policy.explain({ ...base, name: "repo.read", metadata: { role: "agent" } });
    expect(other.trace.map((s) => [s.ruleId, s.outcome])).toEqual([
      ["deny-prod-writes", "pattern did not match"],
      ["devs-read", "condition failed"],
      ["default-deny", "matched"],
    ]);
    expect(other.trace[1]!.detail).toContain('role eq "developer" (saw "agent")');
  });

  it("rules scoped to another environment are left out, and explain says so", () => {
    const scoped = compilePolicy(
      [
        { id: "staging-only", target: "mcp.tool", pattern: "*", action: "allow", scope: { environment: "staging" } },
        { id: "prod", target: "mcp.tool", pattern: "*", action: "deny", scope: { environment: ["production"] } },
      ],
      { environment: "production" },
    );
    expect(scoped.evaluate(base).ruleId).toBe("prod");
    expect(scoped.explain(base).trace[0]).toMatchObject({ ruleId: "staging-only", outcome: "out of scope" });
  });

  it("records which inputs its rules read", () => {
    const p = compilePolicy([
      { id: "a", target: "mcp.tool", pattern: "*", conditions: [{ field: "args.x", op: "exists" }], action: "allow" },
      { id: "b", target: "mcp.tool", pattern: "*", conditions: [{ field: "guard.us_ssn", op: "eq", value: true }], action: "deny" },
    ]);
    expect([...p.reads].sort()).toEqual(["args", "guard"]);
    expect([...compilePolicy([{ id: "c", target: "mcp.tool", pattern: "*", action: "allow" }]).reads]).toEqual([]);
  });
});

describe("lists follow policy conservatively", () => {
  const policy = compilePolicy([
    { id: "small-charges", target: "mcp.tool", pattern: "stripe.charge", conditions: [{ field: "args.amount", op: "lte", value: "$50" }], action: "allow" },
    { id: "no-pii-export", target: "mcp.tool", pattern: "export", conditions: [{ field: "guard", op: "exists" }], action: "deny" },
    { id: "export", target: "mcp.tool", pattern: "export", action: "allow" },
    { id: "admins", target: "mcp.tool", pattern: "admin.*", conditions: [{ field: "role", op: "eq", value: "admin" }], action: "allow" },
  ]);
  it.each<[string, string, boolean]>([
    ["a tool allowed only for some arguments is listed", "stripe.charge", true],
    ["a tool behind a deny that may not apply is listed when a later rule allows it", "export", true],
    ["a tool the caller's role can never call is hidden", "admin.reset", false],
    ["a tool no rule allows is hidden", "repo.delete", false],
  ])("%s", (_label, name, listed) => {
    expect(policy.mayPermit({ ...base, name })).toBe(listed);
  });
});

describe("replay", () => {
  const live = compilePolicy([{ id: "all", target: "mcp.tool", pattern: "*", action: "allow" }]);
  const draft = compilePolicy([
    { id: "no-deletes", target: "mcp.tool", pattern: "*.delete", action: "deny" },
    { id: "all", target: "mcp.tool", pattern: "*", action: "allow" },
  ]);
  const calls: RecordedCall[] = ["repo.read", "repo.delete", "repo.read", "user.delete"].map((name, i) => {
    const call = { tenant: "acme", name };
    const d = live.evaluate(toInput(call));
    return { call, decision: { action: d.action, ruleId: d.ruleId }, traceId: `t${i}` };
  });

  it("reports exactly the decisions that would change, and how", () => {
    const report = replay(new Map([["acme", draft]]), calls);
    expect(report.total).toBe(4);
    expect(report.unchanged).toBe(2);
    expect(report.changed.map((c) => c.traceId)).toEqual(["t1", "t3"]);
    expect(report.transitions).toEqual({ "allow → deny": 2 });
    expect(report.changed[0]!.after).toMatchObject({ action: "deny", ruleId: "no-deletes" });
  });

  it("a tenant missing from the draft is reported, and its calls default-deny", () => {
    const report = replay(new Map(), calls.slice(0, 1));
    expect(report.unknownTenants).toEqual(["acme"]);
    expect(report.changed[0]!.after.ruleId).toBe("default-deny");
  });

  it("reads recorded calls in either shape, and names a bad line", () => {
    const text = [
      JSON.stringify({ call: { tenant: "acme", name: "a" }, decision: { action: "allow", ruleId: "x" }, traceId: "1" }),
      JSON.stringify({ tenant: "acme", name: "b", role: "developer", decision: "deny", ruleId: "y" }),
    ].join("\n");
    const parsed = parseRecordedCalls(text, "calls.jsonl");
    expect(parsed[1]).toMatchObject({ call: { name: "b", metadata: { role: "developer" } }, decision: { action: "deny", ruleId: "y" } });
    expect(() => parseRecordedCalls("{}\nnot json", "calls.jsonl")).toThrow(RecordedCallError);
    expect(() => parseRecordedCalls('{"tenant":"a"}', "calls.jsonl")).toThrow(/calls\.jsonl:1: needs "tenant" and "name"/);
  });
});
