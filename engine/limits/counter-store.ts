/**
 * Where limit counters live. The interface is what a shared store (Redis, for several gateway
 * replicas) must provide; `MemoryCounterStore` is exact within one process.
 *
 * `acquire` is all-or-nothing over several counters: a call under three limits is admitted only
 * if all three have room, and then charged to all three. In one process the check and the
 * charge run in the same synchronous step, so parallel calls cannot both see the last free slot:
 * nothing can interleave on the event loop between them. A shared store must give the same
 * guarantee (a Redis Lua script, for instance), which is why methods may return promises.
 *
 * A counter is named in two parts, the limit (`counter`, built once per publish) and whose count
 * it is (`scope`: a user, a session, a tool name…). Both are strings the gateway already holds,
 * so a lookup hashes no freshly built string; a shared store joins them into one key.
 */
import { SlidingLog, monotonicClock, type Clock } from "./windows.js";

/** The in-process store answers synchronously; a shared store answers with promises. */
export type MaybePromise<T> = T | Promise<T>;

/** Continues with a value now when it is there, later when it is a promise. */
export const andThen = <T, R>(value: MaybePromise<T>, next: (v: T) => R): MaybePromise<R> =>
  value instanceof Promise ? value.then(next) : next(value);

export interface CounterRef {
  /** The limit: tenant, limit id and metric. */
  readonly counter: string;
  /** Whose count: the scope value ("" for a tenant-wide limit). */
  readonly scope: string;
  readonly windowMs: number;
}

export interface CounterRequest extends CounterRef {
  readonly max: number;
  /** Integer amount this call adds (1 request, n tokens, micro-dollars). */
  readonly amount: number;
}

export type Acquired =
  /** `at` is the store's time of the charge: a refund names it (see `refund`). */
  | { readonly ok: true; readonly at: number }
  /** `index` is the first request that did not fit; `retryAfterMs` is undefined when it never can. */
  | { readonly ok: false; readonly index: number; readonly used: number; readonly retryAfterMs: number | undefined };

export interface CounterStore {
  /** The amount counted now in one counter's window. */
  used(ref: CounterRef): MaybePromise<number>;
  /** Charges every request if every one fits under its max; otherwise charges none. */
  acquire(requests: readonly CounterRequest[]): MaybePromise<Acquired>;
  /** Charges without a check: amounts known only after the call (output tokens, their cost). */
  record(ref: CounterRef, amount: number): MaybePromise<void>;
  /**
   * Takes back up to `amount` of what `acquire` charged at `chargedAt` (its `at`): an LLM call
   * reserves its output allowance up front and returns what it did not use. The amount leaves
   * the window it was charged in, so the window's sum is as if only the used part had been
   * charged; once that charge has left the window there is nothing to take back.
   */
  refund(ref: CounterRef, amount: number, chargedAt: number): MaybePromise<void>;
}

type Scopes = Map<string, SlidingLog>;

export class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<string, Scopes>();
  private readonly scratch: SlidingLog[] = [];
  private sweepCounters: IterableIterator<Scopes> | undefined;
  private sweepScopes: IterableIterator<[string, SlidingLog]> | undefined;
  private sweeping: Scopes | undefined;

  constructor(private readonly clock: Clock = monotonicClock) {}

  /** How many counters are held (tests check that idle ones are dropped). */
  get size(): number {
    let n = 0;
    for (const scopes of this.counters.values()) n += scopes.size;
    return n;
  }

  used(ref: CounterRef): number {
    return this.counters.get(ref.counter)?.get(ref.scope)?.used(this.clock()) ?? 0;
  }

  acquire(requests: readonly CounterRequest[]): Acquired {
    const now = this.clock();
    this.sweepOne(now);
    const logs = this.scratch;
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!;
      const log = this.log(r);
      const used = log.used(now);
      if (used + r.amount > r.max) return { ok: false, index: i, used, retryAfterMs: log.retryAfter(now, r.amount, r.max) };
      logs[i] = log;
    }
    // Nothing awaited between the checks above and the charges below: no other call can run
    // in between, so two calls can never both take the last unit.
    for (let i = 0; i < requests.length; i++) logs[i]!.add(now, requests[i]!.amount);
    return { ok: true, at: now };
  }

  record(ref: CounterRef, amount: number): void {
    this.log(ref).add(this.clock(), amount);
  }

  refund(ref: CounterRef, amount: number, chargedAt: number): void {
    this.counters.get(ref.counter)?.get(ref.scope)?.takeBack(this.clock(), chargedAt, amount);
  }

  private log(ref: CounterRef): SlidingLog {
    let scopes = this.counters.get(ref.counter);
    if (scopes === undefined) this.counters.set(ref.counter, (scopes = new Map()));
    let log = scopes.get(ref.scope);
    if (log === undefined || log.windowMs !== ref.windowMs) scopes.set(ref.scope, (log = new SlidingLog(ref.windowMs)));
    return log;
  }

  /**
   * Drops an idle counter per call, so per-session and per-user counters do not pile up after
   * their sessions end. Amortised: no timer to own, and a quiet gateway has nothing to do.
   */
  private sweepOne(now: number): void {
    if (this.sweepScopes === undefined) {
      this.sweepCounters ??= this.counters.values();
      const next = this.sweepCounters.next();
      if (next.done === true) {
        this.sweepCounters = undefined;
        return;
      }
      this.sweeping = next.value;
      this.sweepScopes = next.value.entries();
    }
    const next = this.sweepScopes.next();
    if (next.done === true) {
      this.sweepScopes = undefined;
      return;
    }
    const [scope, log] = next.value;
    log.used(now);
    if (log.isEmpty) this.sweeping!.delete(scope);
  }
}
