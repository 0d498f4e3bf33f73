/**
 * Limit usage as people read it: "62% of 100 req/min", "41% of 50,000 tokens/hr",
 * "$14.20 of a $25/hr cap". Used in refusal reasons and wherever usage is shown.
 */
import type { LimitMetric, LimitWindow } from "../config/types.js";

const UNIT: Readonly<Record<LimitWindow, string>> = { minute: "min", hour: "hr", day: "day" };

export interface Usage {
  readonly limitId: string;
  readonly metric: LimitMetric;
  readonly window: LimitWindow;
  /** In the metric's own unit: requests, tokens or dollars. */
  readonly used: number;
  readonly max: number;
  readonly text: string;
}

const count = (n: number): string => Math.round(n).toLocaleString("en-US");
const money = (n: number, cents: boolean): string =>
  `$${(cents || !Number.isInteger(n) ? n.toFixed(2) : String(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",")}`;

export function describeUsage(metric: LimitMetric, window: LimitWindow, used: number, max: number): string {
  const per = UNIT[window];
  if (metric === "dollars") return `${money(used, true)} of a ${money(max, false)}/${per} cap`;
  const percent = max <= 0 ? 100 : Math.round((used / max) * 100);
  return `${percent}% of ${count(max)} ${metric === "requests" ? "req" : "tokens"}/${per}`;
}
