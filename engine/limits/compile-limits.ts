/**
 * A tenant's limits, compiled once per publish: which calls each limit counts, which counter a
 * call lands in, and admission of a call against every limit that counts it.
 *
 * Limits are checked last, after every other stage that can refuse a call (policy, Content
 * Guard, token caps, the vault's scope check), so a refused call never spends quota, and before
 * it is forwarded, so a call over a limit never reaches the upstream. What a call adds
 * is known up front for requests (1), input tokens and tool prices; output tokens, and what
 * they cost, are added when the answer arrives, and count against the calls that follow.
 */
import type { LimitConfig, LimitMetric, LimitScope, LimitWindow } from "../config/types.js";
import { refuse, type Refusal } from "../errors.js";
import { compileGlob, type GlobMatcher } from "../policy/glob.js";
import { at, LimitConfigError } from "./config-error.js";
import { andThen, type Acquired, type CounterRef, type CounterRequest, type CounterStore, type MaybePromise } from "./counter-store.js";
import { MICROS_PER_DOLLAR } from "./prices.js";
import { describeUsage, type Usage } from "./usage.js";
import { WINDOW_MS } from "./windows.js";

/** Who and what a call is, as the limits see it. Names are canonical. */
export interface LimitedCall {
  readonly tenant: string;
  readonly user: string | undefined;
  /** "" for an LLM call, which has no session: session limits do not count it. */
  readonly session: string;
  readonly connection: string;
  readonly tool?: string;
  readonly model?: string;
}

export interface CompiledLimit {
  readonly id: string;
  readonly scope: LimitScope;
  readonly metric: LimitMetric;
  readonly window: LimitWindow;
  readonly windowMs: number;
  /** In the metric's unit (dollars for dollars). */
  readonly max: number;
  /** In counter units: requests, tokens, micro-dollars. */
  readonly maxUnits: number;
  readonly tools: GlobMatcher | undefined;
  readonly models: GlobMatcher | undefined;
  /** The counter's name without the scope value (tenant, limit id, metric), built once. */
  readonly counter: string;
}

/** What a call adds up front, in counter units. */
export interface CallAmounts {
  readonly tokensIn: number;
  readonly micros: number;
}

/** The counters an admitted call landed in, for what its answer adds. */
export interface Admission {
  readonly tokenKeys: readonly CounterRef[];
  readonly dollarKeys: readonly CounterRef[];
  /** The store's time of the charge, for refunds. */
  readonly at: number;
}

const unitsPer = (metric: LimitMetric): number => (metric === "dollars" ? MICROS_PER_DOLLAR : 1);

export function compileLimits(tenantId: string, limits: readonly LimitConfig[]): TenantLimits | undefined {
  if (limits.length === 0) return undefined;
  const seen = new Set<string>();
  const compiled = limits.map((l, i): CompiledLimit => {
    if (seen.has(l.id)) throw new LimitConfigError(`limits[${i}].id`, `duplicate limit id "${l.id}"`);
    seen.add(l.id);
    if (l.scope === "tool" && l.models !== undefined) throw new LimitConfigError(`limits[${i}].models`, `a "tool" scope counts tool calls; filter them with "tools"`);
    if (l.scope === "model" && l.tools !== undefined) throw new LimitConfigError(`limits[${i}].tools`, `a "model" scope counts LLM calls; filter them with "models"`);
    return {
      id: l.id,
      scope: l.scope,
      metric: l.metric,
      window: l.window,
      windowMs: WINDOW_MS[l.window],
      max: l.max,
      maxUnits: Math.round(l.max * unitsPer(l.metric)),
      tools: l.tools === undefined ? undefined : at(`limits[${i}].tools`, () => compileGlob(l.tools!)),
      models: l.models === undefined ? undefined : at(`limits[${i}].models`, () => compileGlob(l.models!)),
      counter: `${tenantId}\u0000${l.id}\u0000${l.metric}`,
    };
  });
  return new TenantLimits(compiled);
}

export class TenantLimits {
  private readonly byId: ReadonlyMap<string, CompiledLimit>;

  constructor(readonly limits: readonly CompiledLimit[]) {
    this.byId = new Map(limits.map((l) => [l.id, l]));
  }

  get(id: string): CompiledLimit | undefined {
    return this.byId.get(id);
  }

  /** Whether a limit counts this call. */
  applies(limit: CompiledLimit, call: LimitedCall): boolean {
    if (limit.scope === "tool" && call.tool === undefined) return false;
    if (limit.scope === "model" && call.model === undefined) return false;
    if (limit.scope === "session" && call.session === "") return false;
    if (limit.tools === undefined && limit.models === undefined) return true;
    return (limit.tools !== undefined && call.tool !== undefined && limit.tools.match(call.tool)) ||
      (limit.models !== undefined && call.model !== undefined && limit.models.match(call.model));
  }

  /** Whose counter of a limit a call lands in. Callers without a user share one user counter. */
  scope(limit: CompiledLimit, call: LimitedCall): string {
    switch (limit.scope) {
      case "tenant":
        return "";
      case "user":
        return call.user ?? "";
      case "session":
        return call.session;
      case "connection":
        return call.connection;
      case "tool":
        return call.tool ?? "";
      case "model":
        return call.model ?? "";
    }
  }

  /** The caller's current usage of one limit, in the limit's unit. */
  usage(store: CounterStore, call: LimitedCall, limit: CompiledLimit): MaybePromise<Usage> {
    return andThen(store.used({ counter: limit.counter, scope: this.scope(limit, call), windowMs: limit.windowMs }), (units) => {
      const used = units / unitsPer(limit.metric);
      return { limitId: limit.id, metric: limit.metric, window: limit.window, used, max: limit.max, text: describeUsage(limit.metric, limit.window, used, limit.max) };
    });
  }

  /**
   * Admits the call under every limit that counts it, all or none; or refuses it. Synchronous
   * with the in-process store: the hot path gets no extra turn of the event loop.
   */
  admit(store: CounterStore, call: LimitedCall, amounts: CallAmounts): MaybePromise<Admission | Refusal> {
    // Plain loops and no intermediate arrays: this runs on every governed call (≤ 1 µs budget).
    const applicable: CompiledLimit[] = [];
    const requests: CounterRequest[] = [];
    for (const l of this.limits) {
      if (!this.applies(l, call)) continue;
      applicable.push(l);
      const amount = l.metric === "requests" ? 1 : l.metric === "tokens" ? amounts.tokensIn : amounts.micros;
      requests.push({ counter: l.counter, scope: this.scope(l, call), windowMs: l.windowMs, max: l.maxUnits, amount });
    }
    if (requests.length === 0) return NOTHING;
    return andThen(store.acquire(requests), (acquired: Acquired): Admission | Refusal => {
      if (!acquired.ok) return refusal(applicable[acquired.index]!, acquired);
      let tokenKeys: CounterRequest[] | undefined;
      let dollarKeys: CounterRequest[] | undefined;
      for (let i = 0; i < applicable.length; i++) {
        const metric = applicable[i]!.metric;
        if (metric === "tokens") (tokenKeys ??= []).push(requests[i]!);
        else if (metric === "dollars") (dollarKeys ??= []).push(requests[i]!);
      }
      if (tokenKeys === undefined && dollarKeys === undefined) return NOTHING;
      return { tokenKeys: tokenKeys ?? NONE, dollarKeys: dollarKeys ?? NONE, at: acquired.at };
    });
  }

  /** Adds what the answer cost: output tokens, and the micro-dollars they cost. */
  async settle(store: CounterStore, admission: Admission, tokensOut: number, micros: number): Promise<void> {
    for (const ref of admission.tokenKeys) if (tokensOut > 0) await store.record(ref, tokensOut);
    for (const ref of admission.dollarKeys) if (micros > 0) await store.record(ref, micros);
  }

  /**
   * Settles a call admitted with an estimate (an LLM call reserves its input and its whole
   * output allowance) to what it actually used: the unused part is refunded from the charge,
   * anything beyond it is recorded now.
   */
  async settleTo(store: CounterStore, admission: Admission, reserved: CallAmounts, actual: CallAmounts): Promise<void> {
    const tokens = actual.tokensIn - reserved.tokensIn;
    const micros = actual.micros - reserved.micros;
    for (const ref of admission.tokenKeys) await adjust(store, ref, tokens, admission.at);
    for (const ref of admission.dollarKeys) await adjust(store, ref, micros, admission.at);
  }
}

function adjust(store: CounterStore, ref: CounterRef, delta: number, at: number): MaybePromise<void> {
  if (delta > 0) return store.record(ref, delta);
  if (delta < 0) return store.refund(ref, -delta, at);
}

function refusal(limit: CompiledLimit, acquired: Extract<Acquired, { ok: false }>): Refusal {
  const used = acquired.used / unitsPer(limit.metric);
  const usage = describeUsage(limit.metric, limit.window, used, limit.max);
  if (acquired.retryAfterMs === undefined) {
    return refuse("SENTINEL_LIMIT_EXCEEDED", `limit "${limit.id}": ${usage} used; this call alone is over the limit`, { ruleId: limit.id });
  }
  const wait = `retry in ${(acquired.retryAfterMs / 1000).toFixed(1)}s`;
  return refuse("SENTINEL_LIMIT_EXCEEDED", `limit "${limit.id}": ${usage} used; ${wait}`, { ruleId: limit.id, retryAfterMs: acquired.retryAfterMs });
}

const NONE: readonly CounterRequest[] = [];
const NOTHING: Admission = { tokenKeys: NONE, dollarKeys: NONE, at: 0 };
