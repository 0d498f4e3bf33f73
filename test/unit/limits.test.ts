import { describe, expect, it } from "vitest";
import { refuse, type Refusal } from "../../engine/errors.js";
import { compileLimits, type Admission, type LimitedCall } from "../../engine/limits/compile-limits.js";
import { MemoryCounterStore } from "../../engine/limits/counter-store.js";
import { PriceTable } from "../../engine/limits/prices.js";
import { describeUsage } from "../../engine/limits/usage.js";
import { MAX_ENTRIES, SlidingLog } from "../../engine/limits/windows.js";

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms), set: (t: number) => (now = t) };
}

const call: LimitedCall = { tenant: "acme", user: "alice", session: "s1", connection: "github", tool: "repo.read" };
const isRefusal = (v: Admission | Refusal): v is Refusal => "code" in v;

describe("a sliding window", () => {
  it("counts an amount until exactly one window after it was recorded", () => {
    const log = new SlidingLog(60_000);
    log.add(1000, 1);
    expect(log.used(1000)).toBe(1);
    expect(log.used(60_999)).toBe(1);
    expect(log.used(61_000)).toBe(0);
  });

  it("slides: old amounts leave one by one, not all at a bucket edge", () => {
    const log = new SlidingLog(60_000);
    log.add(0, 3);
    log.add(30_000, 2);
    log.add(59_999, 1);
    expect(log.used(59_999)).toBe(6);
    expect(log.used(60_000)).toBe(3);
    expect(log.used(89_999)).toBe(3);
    expect(log.used(90_000)).toBe(1);
    expect(log.used(119_999)).toBe(0);
  });

  it("keeps amounts recorded in the same millisecond in one entry and grows past its first size", () => {
    const log = new SlidingLog(1000);
    for (let t = 0; t < 100; t++) log.add(t, 1);
    log.add(99, 5);
    expect(log.used(99)).toBe(105);
    expect(log.used(1049)).toBe(55);
  });

  it("says when a new amount will fit", () => {
    const log = new SlidingLog(60_000);
    log.add(0, 2);
    log.add(10_000, 2);
    expect(log.retryAfter(20_000, 1, 4)).toBe(40_000); // the first 2 must leave: at 60,000
    expect(log.retryAfter(20_000, 3, 4)).toBe(50_000); // both must leave: at 70,000
    expect(log.retryAfter(20_000, 5, 4)).toBeUndefined(); // never fits
  });
});

describe("the in-memory counter store", () => {
  it("admits under the limit, refuses at it, and admits again exactly when the window slides", () => {
    const clock = manualClock(0);
    const store = new MemoryCounterStore(clock.now);
    const request = { counter: "k", scope: "", windowMs: 60_000, max: 3, amount: 1 };
    expect(store.acquire([request]).ok).toBe(true);
    clock.advance(20_000);
    expect(store.acquire([request]).ok).toBe(true);
    expect(store.acquire([request]).ok).toBe(true);
    expect(store.acquire([request])).toEqual({ ok: false, index: 0, used: 3, retryAfterMs: 40_000 });
    clock.set(59_999);
    expect(store.acquire([request]).ok).toBe(false);
    clock.set(60_000);
    expect(store.acquire([request]).ok).toBe(true);
    expect(store.acquire([request]).ok).toBe(false);
  });

  it("charges several counters all or none", () => {
    const store = new MemoryCounterStore(manualClock().now);
    const roomy = { counter: "a", scope: "x", windowMs: 1000, max: 10, amount: 1 };
    const full = { counter: "b", scope: "x", windowMs: 1000, max: 1, amount: 1 };
    expect(store.acquire([roomy, full]).ok).toBe(true);
    expect(store.acquire([roomy, full])).toMatchObject({ ok: false, index: 1 });
    expect(store.used(roomy)).toBe(1);
  });

  it("drops counters whose windows have emptied", () => {
    const clock = manualClock(0);
    const store = new MemoryCounterStore(clock.now);
    for (let i = 0; i < 50; i++) store.acquire([{ counter: "per-session", scope: `session-${i}`, windowMs: 1000, max: 5, amount: 1 }]);
    expect(store.size).toBe(50);
    clock.advance(1000);
    for (let i = 0; i < 100; i++) store.acquire([{ counter: "per-session", scope: "live", windowMs: 1000, max: 1000, amount: 1 }]);
    expect(store.size).toBe(1);
  });

  it("never admits more than the limit, however calls interleave", async () => {
    const store = new MemoryCounterStore();
    const results = await Promise.all(Array.from({ length: 500 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i % 7));
      return store.acquire([{ counter: "k", scope: "", windowMs: 60_000, max: 100, amount: 1 }]).ok;
    }));
    expect(results.filter(Boolean)).toHaveLength(100);
  });
});

describe("tenant limits", () => {
  const limits = compileLimits("acme", [
    { id: "user-rpm", scope: "user", metric: "requests", window: "minute", max: 2 },
    { id: "repo-tokens", scope: "tool", tools: "repo.*", metric: "tokens", window: "hour", max: 100 },
    { id: "spend", scope: "tenant", metric: "dollars", window: "hour", max: 25 },
    { id: "gpt", scope: "model", models: "gpt-*", metric: "requests", window: "day", max: 1 },
  ])!;

  it("knows which limits count a call", () => {
    const applies = (c: LimitedCall) => limits.limits.filter((l) => limits.applies(l, c)).map((l) => l.id);
    expect(applies(call)).toEqual(["user-rpm", "repo-tokens", "spend"]);
    expect(applies({ ...call, tool: "search" })).toEqual(["user-rpm", "spend"]);
    expect(applies({ ...call, tool: undefined, model: "gpt-4o" })).toEqual(["user-rpm", "spend", "gpt"]);
  });

  it("keys a counter by its scope", () => {
    const key = (id: string, c: LimitedCall) => `${limits.get(id)!.counter}/${limits.scope(limits.get(id)!, c)}`;
    expect(key("user-rpm", call)).toBe(key("user-rpm", { ...call, session: "s2", tool: "x" }));
    expect(key("user-rpm", call)).not.toBe(key("user-rpm", { ...call, user: "bob" }));
    expect(key("repo-tokens", call)).not.toBe(key("repo-tokens", { ...call, tool: "repo.write" }));
    expect(key("spend", call)).toBe(key("spend", { ...call, user: "bob", connection: "other" }));
  });

  it("refuses with the limit, readable usage and a retry delay, and charges nothing on refusal", () => {
    const clock = manualClock(0);
    const store = new MemoryCounterStore(clock.now);
    expect(isRefusal(limits.admit(store, call, { tokensIn: 10, micros: 0 }) as Admission | Refusal)).toBe(false);
    clock.advance(15_000);
    expect(isRefusal(limits.admit(store, call, { tokensIn: 10, micros: 0 }) as Admission | Refusal)).toBe(false);
    const third = limits.admit(store, call, { tokensIn: 10, micros: 0 }) as Refusal;
    expect(third).toEqual(refuse("SENTINEL_LIMIT_EXCEEDED", 'limit "user-rpm": 100% of 2 req/min used; retry in 45.0s', { ruleId: "user-rpm", retryAfterMs: 45_000 }));
    expect(limits.usage(store, call, limits.get("repo-tokens")!)).toMatchObject({ used: 20, text: "20% of 100 tokens/hr" });
  });

  it("adds what an answer cost after the call", async () => {
    const store = new MemoryCounterStore(manualClock().now);
    const admission = limits.admit(store, call, { tokensIn: 30, micros: 14_200_000 }) as Admission;
    await limits.settle(store, admission, 50, 0);
    expect(limits.usage(store, call, limits.get("repo-tokens")!)).toMatchObject({ used: 80 });
    expect(limits.usage(store, call, limits.get("spend")!)).toMatchObject({ used: 14.2, text: "$14.20 of a $25/hr cap" });
  });

  it("a call that alone is over a limit is refused without a retry delay", () => {
    const store = new MemoryCounterStore(manualClock().now);
    const refusal = limits.admit(store, call, { tokensIn: 101, micros: 0 }) as Refusal;
    expect(refusal.retryAfterMs).toBeUndefined();
    expect(refusal.reason).toContain("this call alone is over the limit");
  });
});

describe("readable usage", () => {
  it.each([
    ["requests", "minute", 62, 100, "62% of 100 req/min"],
    ["tokens", "hour", 20_500, 50_000, "41% of 50,000 tokens/hr"],
    ["dollars", "hour", 14.2, 25, "$14.20 of a $25/hr cap"],
    ["dollars", "day", 1234.5, 2500.5, "$1,234.50 of a $2,500.50/day cap"],
  ] as const)("%s: %d of %d per %s", (metric, window, used, max, text) => {
    expect(describeUsage(metric, window, used, max)).toBe(text);
  });
});

describe("prices", () => {
  const prices = new PriceTable({
    models: [{ pattern: "gpt-4o-mini*", inputPerMillion: 0.15, outputPerMillion: 0.6 }, { pattern: "gpt-4o*", inputPerMillion: 2.5, outputPerMillion: 10 }],
    tools: [{ pattern: "stripe.charge", argument: "amount", scale: 0.01 }, { pattern: "search.*", perCall: 0.005 }, { pattern: "quote", perCall: 1, argument: "order.items[0].price" }],
  });

  it("prices tokens per model, first matching pattern", () => {
    expect(prices.modelCost("gpt-4o", 1_000_000, 100_000)).toBe(3_500_000);
    expect(prices.modelCost("GPT-4o-mini", 1_000_000, 0)).toBe(150_000);
    expect(prices.modelCost("claude-3", 1_000_000, 0)).toBe(0);
  });

  it("prices a tool from an argument, a fixed price, or both", () => {
    expect(prices.toolCost("stripe.charge", { amount: 1420 })).toBe(14_200_000);
    expect(prices.toolCost("stripe.charge", { amount: "250" })).toBe(2_500_000);
    expect(prices.toolCost("stripe.charge", {})).toBe(0);
    expect(prices.toolCost("search.web", {})).toBe(5000);
    expect(prices.toolCost("quote", { order: { items: [{ price: 2.5 }] } })).toBe(3_500_000);
    expect(prices.toolCost("other", { amount: 1 })).toBe(0);
  });

  it("refuses to guess when the amount is not a non-negative number", () => {
    expect(prices.toolCost("stripe.charge", { amount: "ten" })).toEqual({ problem: 'argument "amount" must be a non-negative number to price the call' });
    expect(prices.toolCost("stripe.charge", { amount: -5 })).toHaveProperty("problem");
  });
});

describe("a busy counter's memory", () => {
  it("stays bounded, and merged amounts leave the window late, never early", () => {
    const log = new SlidingLog(1_000_000);
    for (let t = 0; t < MAX_ENTRIES * 3; t++) log.add(t, 1);
    const now = MAX_ENTRIES * 3 - 1;
    expect(log.used(now)).toBe(MAX_ENTRIES * 3);
    expect((log as unknown as { times: Float64Array }).times.length).toBeLessThanOrEqual(MAX_ENTRIES * 2);
    // Exactly, the first 100 amounts leave at 1,000,000..1,000,099; merged, none leaves earlier.
    for (let t = 1_000_000; t < 1_000_100; t++) expect(log.used(t)).toBeGreaterThanOrEqual(MAX_ENTRIES * 3 - (t - 1_000_000 + 1));
    expect(log.used(now + 1_000_000)).toBe(0);
  });
});
