/**
 * A tenant's Content Guard, Token Guard, limits and prices, compiled once per publish into the
 * objects the guard stage reads (engine/gateway/guard-stage.ts). Errors name the path inside the
 * tenant (`guard.patterns[2].pattern`), and config loading prefixes the tenant's own path.
 */
import { createHash } from "node:crypto";
import { compileGuard, GuardConfigError, type CompiledGuard } from "../guard/compile-guard.js";
import { compileLimits, type TenantLimits } from "../limits/compile-limits.js";
import { LimitConfigError } from "../limits/config-error.js";
import { PriceTable } from "../limits/prices.js";
import type { TenantConfig, TokenCapsConfig } from "./types.js";

export interface Safeguards {
  readonly guard: CompiledGuard | undefined;
  /** Identifies the guard's pattern set, so pool workers compile each set once. */
  readonly guardKey: string;
  readonly limits: TenantLimits | undefined;
  readonly caps: TokenCapsConfig | undefined;
  readonly prices: PriceTable | undefined;
  /** Some limit counts tokens, so tool-call tokens must be counted exactly. */
  readonly countsTokens: boolean;
}

/** A safeguard that cannot compile; `path` is relative to the tenant. */
export class SafeguardError extends Error {
  override readonly name = "SafeguardError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export function compileSafeguards(tenant: TenantConfig): Safeguards | undefined {
  let guard: CompiledGuard | undefined;
  let limits: TenantLimits | undefined;
  let prices: PriceTable | undefined;
  try {
    guard = tenant.guard === undefined ? undefined : compileGuard(tenant.guard);
  } catch (err) {
    if (err instanceof GuardConfigError) throw new SafeguardError(`guard.${err.path}`, err.message);
    throw err;
  }
  try {
    limits = compileLimits(tenant.id, tenant.limits ?? []);
    prices = tenant.prices === undefined ? undefined : new PriceTable(tenant.prices);
  } catch (err) {
    if (err instanceof LimitConfigError) throw new SafeguardError(err.path, err.message);
    throw err;
  }
  const caps = tenant.tokenCaps;
  const hasCaps = caps !== undefined && (caps.input !== undefined || caps.output !== undefined || caps.total !== undefined);
  if (guard === undefined && limits === undefined && !hasCaps && (prices === undefined || prices.empty)) return undefined;
  return {
    guard,
    guardKey: guard === undefined ? "" : createHash("sha256").update(JSON.stringify(guard.spec)).digest("base64url"),
    limits,
    caps: hasCaps ? caps : undefined,
    prices: prices === undefined || prices.empty ? undefined : prices,
    countsTokens: limits?.limits.some((l) => l.metric === "tokens") ?? false,
  };
}
