/**
 * Policy cases shared by the tests and the benchmarks: the brief's composer table as calls with
 * their expected decisions, and generated rule sets of any size with calls that exercise them.
 */
import type { PolicyConfig } from "../../engine/config/types.js";
import type { HypotheticalCall } from "../../engine/policy/dry-run.js";

export interface PolicyCase {
  readonly label: string;
  readonly call: HypotheticalCall;
  readonly expect: { readonly action: string; readonly ruleId: string };
}

const dev = { role: "developer", department: "eng" };

export const BRIEF_CASES: readonly PolicyCase[] = [
  { label: "a developer reads a repo", call: { tenant: "acme", name: "repo.read", metadata: dev, args: { repo: "acme/api" } }, expect: { action: "allow", ruleId: "repo-read-developers" } },
  { label: "an agent reads a repo", call: { tenant: "acme", name: "repo.read", metadata: { role: "agent" } }, expect: { action: "deny", ruleId: "catch-all-deny" } },
  { label: "a developer deletes", call: { tenant: "acme", name: "delete_repo", metadata: dev }, expect: { action: "deny", ruleId: "no-deletes-unless-admin" } },
  { label: "a developer deletes, spelled DELETE_REPO", call: { tenant: "acme", name: "DELETE_REPO", metadata: dev }, expect: { action: "deny", ruleId: "no-deletes-unless-admin" } },
  { label: "an admin deletes (no allow rule: catch-all)", call: { tenant: "acme", name: "delete_repo", metadata: { role: "admin" } }, expect: { action: "deny", ruleId: "catch-all-deny" } },
  { label: "gpt-4o with a 4,096-token prompt", call: { tenant: "acme", target: "llm.model", name: "gpt-4o", tokens: { in: 4096, out: 0 } }, expect: { action: "allow", ruleId: "gpt4-small-prompts" } },
  { label: "gpt-4o with a 5,000-token prompt", call: { tenant: "acme", target: "llm.model", name: "gpt-4o", tokens: { in: 5000, out: 0 } }, expect: { action: "deny", ruleId: "default-deny" } },
  { label: "gpt-3.5 is not allowed", call: { tenant: "acme", target: "llm.model", name: "gpt-3.5-turbo", tokens: { in: 10, out: 0 } }, expect: { action: "deny", ruleId: "default-deny" } },
  { label: "a chat prompt with an SSN", call: { tenant: "acme", target: "llm.endpoint", name: "chat.completions", findings: ["us_ssn"] }, expect: { action: "redact", ruleId: "chat-pii-redact" } },
  { label: "a chat prompt without PII", call: { tenant: "acme", target: "llm.endpoint", name: "chat.completions", findings: [] }, expect: { action: "deny", ruleId: "default-deny" } },
  { label: "a $42 charge", call: { tenant: "acme", name: "stripe.charge.create", metadata: { role: "agent" }, args: { amount: 42 } }, expect: { action: "deny", ruleId: "catch-all-deny" } },
  { label: "a $90 charge", call: { tenant: "acme", name: "stripe.charge.create", metadata: { role: "agent" }, args: { amount: 90 } }, expect: { action: "alert", ruleId: "big-charges-alert" } },
  { label: "a charge whose amount is a string", call: { tenant: "acme", name: "stripe.charge.create", args: { amount: "$120.50" } }, expect: { action: "alert", ruleId: "big-charges-alert" } },
  { label: "eng writes a repo", call: { tenant: "acme", name: "repo.write", metadata: { role: "developer", department: "eng" } }, expect: { action: "allow", ruleId: "repo-write-eng-sec" } },
  { label: "sales writes a repo", call: { tenant: "acme", name: "repo.write", metadata: { role: "developer", department: "sales" } }, expect: { action: "deny", ruleId: "catch-all-deny" } },
  { label: "embeddings at $14.20 of $25", call: { tenant: "acme", target: "llm.endpoint", name: "embeddings", usage: { "embeddings-dollars-hourly": { used: 14.2, limit: 25 } } }, expect: { action: "allow", ruleId: "embeddings-under-cap" } },
  { label: "embeddings at the $25 cap", call: { tenant: "acme", target: "llm.endpoint", name: "embeddings", usage: { "embeddings-dollars-hourly": { used: 25, limit: 25 } } }, expect: { action: "deny", ruleId: "default-deny" } },
  { label: "an unknown tool", call: { tenant: "acme", name: "fs.write", metadata: dev }, expect: { action: "deny", ruleId: "catch-all-deny" } },
];

/**
 * LLM calls against the brief's rules, judged as the gateway judges them (engine/llm/llm-policy.ts):
 * the model by `llm.model` rules and the endpoint by `llm.endpoint` rules, each denying by
 * default, and the stronger of two permitting decisions applying.
 */
export interface LlmPolicyCase {
  readonly label: string;
  readonly call: Omit<HypotheticalCall, "name" | "target"> & { readonly model: string; readonly endpoint: string };
  readonly expect: { readonly permitted: boolean; readonly action: string; readonly ruleId: string; readonly target: string };
}

const embeddingsUsage = (used: number) => ({ "embeddings-dollars-hourly": { used, limit: 25 } });

export const BRIEF_LLM_CASES: readonly LlmPolicyCase[] = [
  { label: "gpt-4o chat with an SSN in a short prompt goes out redacted", call: { tenant: "acme", model: "gpt-4o", endpoint: "chat.completions", tokens: { in: 1200, out: 0 }, findings: ["us-ssn"] }, expect: { permitted: true, action: "redact", ruleId: "chat-pii-redact", target: "llm.endpoint" } },
  { label: "gpt-4o chat without PII: no endpoint rule allows it", call: { tenant: "acme", model: "gpt-4o", endpoint: "chat.completions", tokens: { in: 1200, out: 0 }, findings: [] }, expect: { permitted: false, action: "deny", ruleId: "default-deny", target: "llm.endpoint" } },
  { label: "gpt-4o chat with PII in a 5,000-token prompt: the model rule's condition fails first", call: { tenant: "acme", model: "gpt-4o", endpoint: "chat.completions", tokens: { in: 5000, out: 0 }, findings: ["us-ssn"] }, expect: { permitted: false, action: "deny", ruleId: "default-deny", target: "llm.model" } },
  { label: "GPT-4O-MINI is judged as gpt-4o-mini", call: { tenant: "acme", model: "GPT-4O-MINI", endpoint: "chat.completions", tokens: { in: 10, out: 0 }, findings: ["email"] }, expect: { permitted: true, action: "redact", ruleId: "chat-pii-redact", target: "llm.endpoint" } },
  { label: "gpt-3.5 chat: no model rule allows it", call: { tenant: "acme", model: "gpt-3.5-turbo", endpoint: "chat.completions", tokens: { in: 10, out: 0 }, findings: ["us-ssn"] }, expect: { permitted: false, action: "deny", ruleId: "default-deny", target: "llm.model" } },
  { label: "gpt-4o embeddings under the $25/hr cap", call: { tenant: "acme", model: "gpt-4o", endpoint: "embeddings", tokens: { in: 100, out: 0 }, usage: embeddingsUsage(14.2) }, expect: { permitted: true, action: "allow", ruleId: "gpt4-small-prompts", target: "llm.model" } },
  { label: "gpt-4o embeddings at the $25/hr cap", call: { tenant: "acme", model: "gpt-4o", endpoint: "embeddings", tokens: { in: 100, out: 0 }, usage: embeddingsUsage(25) }, expect: { permitted: false, action: "deny", ruleId: "default-deny", target: "llm.endpoint" } },
  { label: "text-embedding-3-small under the cap: no model rule allows it", call: { tenant: "acme", model: "text-embedding-3-small", endpoint: "embeddings", tokens: { in: 100, out: 0 }, usage: embeddingsUsage(1) }, expect: { permitted: false, action: "deny", ruleId: "default-deny", target: "llm.model" } },
];

/**
 * A rule set of `size` rules shaped like a large tenant's: per-service exact names, prefix
 * globs (`svc42.*`), suffix globs (`*.admin`), conditions on role, department and arguments,
 * and a catch-all deny at the end.
 */
export function generatedRules(size: number): PolicyConfig[] {
  const rules: PolicyConfig[] = [];
  for (let i = 0; rules.length < size - 1; i++) {
    const svc = `svc${i}`;
    rules.push({ id: `${svc}-read`, target: "mcp.tool", pattern: `${svc}.read`, conditions: [{ field: "role", op: "in", value: ["developer", "admin"] }], action: "allow" });
    if (rules.length < size - 1) rules.push({ id: `${svc}-write`, target: "mcp.tool", pattern: `${svc}.write*`, conditions: [{ field: "metadata.department", op: "eq", value: "eng" }, { field: "args.size", op: "lt", value: "4k" }], action: "allow" });
    if (rules.length < size - 1) rules.push({ id: `${svc}-admin`, target: "mcp.tool", pattern: `*.${svc}-admin`, conditions: [{ field: "role", op: "neq", value: "admin" }], action: "deny" });
  }
  rules.push({ id: "catch-all-deny", target: "mcp.tool", pattern: "*", action: "deny" });
  return rules;
}

/** Calls against generatedRules(size): hits early, in the middle, late, and misses. */
export function generatedCases(size: number): PolicyCase[] {
  const services = Math.max(1, Math.floor((size - 1) / 3));
  const at = (fraction: number) => `svc${Math.min(services - 1, Math.floor(services * fraction))}`;
  const dev = { role: "developer", department: "eng" };
  return [
    { label: "an early exact match", call: { tenant: "t", name: `${at(0)}.read`, metadata: dev }, expect: { action: "allow", ruleId: `${at(0)}-read` } },
    { label: "a middle prefix glob with argument conditions", call: { tenant: "t", name: `${at(0.5)}.write.file`, metadata: dev, args: { size: 100 } }, expect: { action: "allow", ruleId: `${at(0.5)}-write` } },
    { label: "a late exact match", call: { tenant: "t", name: `${at(0.99)}.read`, metadata: dev }, expect: { action: "allow", ruleId: `${at(0.99)}-read` } },
    { label: "a suffix glob", call: { tenant: "t", name: `x.${at(0.7)}-admin`, metadata: dev }, expect: { action: "deny", ruleId: `${at(0.7)}-admin` } },
    { label: "no rule but the catch-all", call: { tenant: "t", name: "unknown.tool", metadata: dev }, expect: { action: "deny", ruleId: "catch-all-deny" } },
  ];
}
