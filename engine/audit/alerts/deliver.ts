/**
 * Sends one alert to one channel, retrying what can succeed later: network errors, 5xx, and 429
 * (after the receiver's Retry-After / Discord's `retry_after`), with capped exponential backoff
 * and jitter. Other 4xx answers are permanent (a revoked webhook, a malformed payload): retrying
 * cannot fix them, so they go straight to the dead-letter.
 */
import { request } from "undici";
import type { Alert } from "./alert.js";
import type { AlertChannel } from "./channels.js";

export interface RetryPolicy {
  readonly attempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly timeoutMs: number;
}

export type DeliveryResult = { readonly ok: true; readonly attempts: number } | { readonly ok: false; readonly attempts: number; readonly error: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function retryAfterMs(headers: Record<string, string | string[] | undefined>, body: string): number | undefined {
  const h = headers["retry-after"];
  const v = Array.isArray(h) ? h[0] : h;
  if (v !== undefined && /^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  try {
    const parsed = JSON.parse(body) as { retry_after?: unknown };
    if (typeof parsed.retry_after === "number") return parsed.retry_after * 1000;
  } catch {
    // not JSON: no hint
  }
  return undefined;
}

export async function deliverAlert(channel: AlertChannel, alert: Alert, policy: RetryPolicy): Promise<DeliveryResult> {
  let delay = policy.initialDelayMs;
  let lastError = "";
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    let wait = delay;
    try {
      const req = channel.render(alert, Date.now());
      const res = await request(channel.url, {
        method: "POST",
        headers: req.headers,
        body: req.body,
        headersTimeout: policy.timeoutMs,
        bodyTimeout: policy.timeoutMs,
      });
      const text = await res.body.text();
      if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, attempts: attempt };
      lastError = `HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
      if (res.statusCode === 429) wait = Math.min(policy.maxDelayMs, retryAfterMs(res.headers, text) ?? delay);
      else if (res.statusCode < 500 && res.statusCode !== 408) return { ok: false, attempts: attempt, error: lastError };
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (attempt < policy.attempts) {
      await sleep(wait * (0.8 + Math.random() * 0.4));
      delay = Math.min(policy.maxDelayMs, delay * 2);
    }
  }
  return { ok: false, attempts: policy.attempts, error: lastError };
}
