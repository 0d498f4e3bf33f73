/**
 * Exact sliding windows. A window of length W at time `now` holds every amount recorded at a
 * time t with now - W < t ≤ now: an amount recorded at t stops counting at exactly t + W. There
 * are no fixed buckets, so a burst at the end of one minute and another at the start of the next
 * cannot add up to twice the limit, as they can with fixed windows.
 *
 * A log is a ring of (time, amount) pairs with a running sum; amounts recorded in the same
 * millisecond share one entry. Amounts are integers (requests, tokens, micro-dollars), so the sum
 * is exact. Memory is one entry per distinct millisecond with activity inside the window, up to
 * MAX_ENTRIES (64 KiB) per counter. A request limit never gets there (it admits at most `max`
 * entries); a busy token or dollar counter can, and then neighbouring entries merge pairwise
 * into the later time of the two. Merged amounts leave the window a little late, never early:
 * the count can only err high, so a limit may refuse slightly early but never over-admits.
 */
import type { LimitWindow } from "../config/types.js";

export const WINDOW_MS: Readonly<Record<LimitWindow, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Milliseconds; injectable so tests can move time. */
export type Clock = () => number;

/** A monotonic clock: wall-clock steps (NTP) must not empty or freeze a window. */
export const monotonicClock: Clock = () => Math.floor(performance.timeOrigin + performance.now());

export const MAX_ENTRIES = 4096;

export class SlidingLog {
  private times = new Float64Array(8);
  private amounts = new Float64Array(8);
  private head = 0;
  private size = 0;
  private total = 0;

  constructor(readonly windowMs: number) {}

  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** The sum inside the window ending at `now`, after dropping what has left it. */
  used(now: number): number {
    const oldest = now - this.windowMs;
    while (this.size > 0 && this.times[this.head]! <= oldest) {
      this.total -= this.amounts[this.head]!;
      this.head = (this.head + 1) % this.times.length;
      this.size--;
    }
    if (this.size === 0) this.total = 0;
    return this.total;
  }

  add(now: number, amount: number): void {
    if (amount === 0) return;
    this.used(now);
    const last = (this.head + this.size - 1) % this.times.length;
    if (this.size > 0 && this.times[last] === now) {
      this.amounts[last]! += amount;
    } else {
      if (this.size === this.times.length) {
        if (this.size < MAX_ENTRIES) this.grow();
        else this.halve();
      }
      const at = (this.head + this.size) % this.times.length;
      this.times[at] = now;
      this.amounts[at] = amount;
      this.size++;
    }
    this.total += amount;
  }

  /**
   * Removes up to `amount` from what was added at time `at`, if that is still in the window.
   * Entries are in time order and a merge only moves an amount to a later time, so the amount
   * added at `at` lives in the first entry at or after `at`. An addition at `at` has left the
   * window once `at` ≤ now - W (or sits in a merged entry that leaves late): then nothing is
   * taken back, and the count errs high, never low.
   */
  takeBack(now: number, at: number, amount: number): void {
    if (amount <= 0 || at <= now - this.windowMs) return;
    this.used(now);
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) % this.times.length;
      if (this.times[i]! < at) continue;
      const taken = Math.min(amount, this.amounts[i]!);
      this.amounts[i]! -= taken;
      this.total -= taken;
      return;
    }
  }

  /**
   * How long until `amount` more fits under `max`: the time at which enough of the oldest
   * entries have left the window. Undefined when `amount` alone exceeds `max`.
   */
  retryAfter(now: number, amount: number, max: number): number | undefined {
    if (amount > max) return undefined;
    let excess = this.used(now) + amount - max;
    if (excess <= 0) return 0;
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) % this.times.length;
      excess -= this.amounts[i]!;
      if (excess <= 0) return this.times[i]! + this.windowMs - now;
    }
    return this.windowMs;
  }

  /** Merges entries pairwise (each pair at its later time), freeing half the ring. */
  private halve(): void {
    const cap = this.times.length;
    const times = new Float64Array(cap);
    const amounts = new Float64Array(cap);
    let w = 0;
    for (let k = 0; k < this.size; k += 2, w++) {
      const a = (this.head + k) % cap;
      const b = (this.head + Math.min(k + 1, this.size - 1)) % cap;
      times[w] = this.times[b]!;
      amounts[w] = this.amounts[a]! + (a === b ? 0 : this.amounts[b]!);
    }
    this.times = times;
    this.amounts = amounts;
    this.head = 0;
    this.size = w;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    const amounts = new Float64Array(this.times.length * 2);
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) % this.times.length;
      times[k] = this.times[i]!;
      amounts[k] = this.amounts[i]!;
    }
    this.times = times;
    this.amounts = amounts;
    this.head = 0;
  }
}
