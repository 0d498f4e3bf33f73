import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfigFile } from "../../engine/config/load-config.js";
import { compilePolicy } from "../../engine/policy/compile-policy.js";
import { dryRun, toInput } from "../../engine/policy/dry-run.js";
import { judgeLlm } from "../../engine/llm/llm-policy.js";
import { BRIEF_CASES, BRIEF_LLM_CASES, generatedCases, generatedRules } from "../cases/policy-cases.js";

const BRIEF = fileURLToPath(new URL("../../examples/brief-rules/sentinel.yaml", import.meta.url));

describe("the brief's eight example rules", () => {
  const config = loadConfigFile(BRIEF);
  const policy = compilePolicy(config.tenants[0]!.policies ?? []);

  it("ship as a config of exactly eight rules", () => {
    expect(config.tenants[0]!.policies).toHaveLength(8);
  });

  it.each(BRIEF_CASES.map((c) => [c.label, c] as const))("%s", (_label, c) => {
    const { decision, trace } = dryRun(policy, c.call);
    expect({ action: decision.action, ruleId: decision.ruleId }).toEqual(c.expect);
    expect(trace.at(-1)!.ruleId).toBe(c.expect.ruleId);
  });
});

describe("LLM calls under the brief's rules: the model and the endpoint must each be permitted", () => {
  const policy = compilePolicy(loadConfigFile(BRIEF).tenants[0]!.policies ?? []);

  it.each(BRIEF_LLM_CASES.map((c) => [c.label, c] as const))("%s", (_label, c) => {
    const { model, endpoint, ...call } = c.call;
    const { target: _target, name: _name, ...base } = toInput({ ...call, name: model });
    const verdict = judgeLlm(policy, base, model, endpoint);
    expect({ permitted: verdict.refusal === undefined, action: verdict.action, ruleId: verdict.decision.ruleId, target: verdict.target }).toEqual(c.expect);
    if (verdict.refusal !== undefined) expect(verdict.refusal).toMatchObject({ code: "SENTINEL_POLICY_DENIED", ruleId: c.expect.ruleId });
  });
});

describe.each([10, 1_000, 10_000])("a generated policy of %i rules", (size) => {
  const rules = generatedRules(size);
  const policy = compilePolicy(rules);

  it("compiles every rule", () => {
    expect(policy.ruleCount).toBe(size);
  });

  it.each(generatedCases(size).map((c) => [c.label, c] as const))("%s decides like a linear scan of every rule", (_label, c) => {
    const fast = policy.evaluate(toInput(c.call));
    expect({ action: fast.action, ruleId: fast.ruleId }).toEqual(c.expect);
    // explain() walks every rule in order without the index: the index must agree with it.
    const slow = dryRun(policy, c.call).decision;
    expect(slow.ruleId).toBe(fast.ruleId);
  });
});
