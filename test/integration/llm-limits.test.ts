/**
 * LLM calls under limits: a call reserves its prompt and its whole output allowance, the
 * answer settles the reservation to the provider's usage (refunding what was not used), a
 * failed call is refunded entirely, and concurrent calls can never be admitted past a limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PolicyConfig } from "../../engine/config/types.js";
import type { LimitedCall } from "../../engine/limits/compile-limits.js";
import { PROVIDER_KEY, startLlmGateway, type LlmSetup } from "../support/llm-harness.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const allowAllLlm: PolicyConfig[] = [
  { id: "all-models", target: "llm.model", pattern: "*", action: "allow" },
  { id: "all-endpoints", target: "llm.endpoint", pattern: "*", action: "allow" },
];
const chat = (model: string, content: string, extra: Json = {}) => ({ model, messages: [{ role: "user", content }], ...extra });
/** A prompt of `words` words: "lorem lorem …" is words + 1 tokens in o200k_base. */
const lorem = (words: number) => "lorem ".repeat(words).trim();

/** How much of a limit is used now, in its unit. */
async function used(s: LlmSetup, limitId: string, model: string): Promise<number> {
  await new Promise((r) => setTimeout(r, 10)); // settlement runs right after the answer
  const limits = s.gw.gateway.runtime.tenants.get("acme")!.safeguards!.limits!;
  const call: LimitedCall = { tenant: "acme", user: undefined, session: "", connection: "openai", model };
  return (await limits.usage(s.gw.gateway.counters, call, limits.get(limitId)!)).used;
}

describe("LLM calls under token and dollar limits", () => {
  let s: LlmSetup;

  beforeAll(async () => {
    s = await startLlmGateway({
      policies: allowAllLlm,
      tokenCaps: { output: 100 },
      limits: [
        { id: "mini-tokens", scope: "tenant", models: "{gpt-4o-mini,fail-500}", metric: "tokens", window: "minute", max: 300 },
        { id: "gpt4o-dollars", scope: "model", models: "gpt-4o", metric: "dollars", window: "hour", max: 0.25 },
      ],
      // A thousandth of a dollar per token, so the dollar limit is easy to reason about.
      prices: { models: [{ pattern: "gpt-4o", inputPerMillion: 1000, outputPerMillion: 1000 }] },
    });
  });

  afterAll(async () => {
    await s?.close();
  });

  it("a call the provider fails costs nothing: its reservation is released", async () => {
    const reply = await s.post("chat/completions", chat("fail-500", "hi"));
    expect(reply.status).toBe(500);
    expect(await used(s, "mini-tokens", "gpt-4o-mini")).toBe(0);
  });

  it("a call is settled to the provider's usage: the unused output allowance is refunded", async () => {
    const reply = await s.post("chat/completions", chat("gpt-4o-mini", "hi"));
    expect(reply.status).toBe(200);
    expect(await used(s, "mini-tokens", "gpt-4o-mini")).toBe((reply.json as Json).usage.total_tokens);
  });

  it("calls that fit only because of the refunds are admitted", async () => {
    // Each call reserves 7 + 100 tokens: three reservations (321) would not fit under 300.
    for (let i = 0; i < 2; i++) expect((await s.post("chat/completions", chat("gpt-4o-mini", "hi"))).status).toBe(200);
    expect(await used(s, "mini-tokens", "gpt-4o-mini")).toBe(60);
  });

  it("a stream is settled when it ends", async () => {
    const before = await used(s, "mini-tokens", "gpt-4o-mini");
    const reply = await s.post("chat/completions", chat("gpt-4o-mini", "hi", { stream: true }));
    expect(reply.status).toBe(200);
    expect(await used(s, "mini-tokens", "gpt-4o-mini")).toBe(before + 20);
  });

  it("a call whose reservation does not fit is refused with 429 and Retry-After, before the provider", async () => {
    const remaining = 300 - (await used(s, "mini-tokens", "gpt-4o-mini"));
    // The prompt plus the 100-token output allowance overshoots what is left by ten tokens.
    const words = remaining - 100 + 10 - 7;
    const before = s.provider.requests.length;
    const reply = await s.post("chat/completions", chat("gpt-4o-mini", lorem(words)));
    expect(reply.status).toBe(429);
    expect(reply.json).toMatchObject({ error: { code: "SENTINEL_LIMIT_EXCEEDED", type: "rate_limit_error", sentinel: { ruleId: "mini-tokens" } } });
    expect((reply.json as Json).error.sentinel.retryAfterMs).toBeGreaterThan(0);
    expect(Number(reply.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(s.provider.requests.length).toBe(before);
  });

  it("a dollar limit on a model admits calls priced at their settled cost and refuses the one that would overshoot", async () => {
    // Each call reserves (7 + 100) × $0.001 and settles to (7 + 13) × $0.001 = $0.02: eight fit
    // under $0.25 (the eighth reserves $0.107 on top of $0.14), the ninth does not.
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await s.post("chat/completions", chat("gpt-4o", "hi"))).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
    expect(await used(s, "gpt4o-dollars", "gpt-4o")).toBeCloseTo(0.16, 9);
    // Another model is under no dollar limit.
    expect((await s.post("chat/completions", chat("o3", "hi"))).status).toBe(200);
  });
});

describe("concurrent LLM calls", () => {
  let s: LlmSetup;

  beforeAll(async () => {
    s = await startLlmGateway({
      policies: allowAllLlm,
      tokenCaps: { output: 100 },
      limits: [
        { id: "rpm", scope: "tenant", models: "gpt-4o", metric: "requests", window: "minute", max: 3 },
        { id: "slow-tokens", scope: "model", models: "slow", metric: "tokens", window: "minute", max: 250 },
      ],
    });
  });

  afterAll(async () => {
    await s?.close();
  });

  it("ten calls at once against a limit of three: exactly three reach the provider", async () => {
    const replies = await Promise.all(Array.from({ length: 10 }, () => s.post("chat/completions", chat("gpt-4o", "hi"))));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(3);
    const refused = replies.filter((r) => r.status === 429);
    expect(refused).toHaveLength(7);
    for (const r of refused) expect(r.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(s.provider.requests.filter((r) => r.body?.model === "gpt-4o")).toHaveLength(3);
  });

  it("reservations in flight count: six slow calls at once, each reserving 107 of 250 tokens, admit two", async () => {
    const replies = await Promise.all(Array.from({ length: 6 }, () => s.post("chat/completions", chat("slow", "hi"))));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 429, 429, 429, 429]);
    expect(s.provider.requests.every((r) => r.headers.authorization === `Bearer ${PROVIDER_KEY}`)).toBe(true);
  });
});
