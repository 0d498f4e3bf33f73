/**
 * The audit record, version 1: one per call, one per admin change, and signed checkpoints, all
 * in one hash chain. This shape is the contract with every sink (the store's `body` column,
 * the Kafka topic's JSON value) and is documented in the README; fields are added, never renamed.
 */

export const RECORD_VERSION = 1;

export type RecordKind = "call" | "admin" | "checkpoint";

/**
 * What happened to the call: a policy action (allow, deny, alert, redact, confirm), `refuse`
 * when the gateway refused it before or outside policy (auth, session, transport), or `pass`
 * for methods that need no decision (initialize, ping, list methods, which policy filters).
 */
export type AuditDecision = "allow" | "deny" | "alert" | "redact" | "confirm" | "refuse" | "pass";

export interface AuditOutcome {
  /** ok: a result went down; tool_error: the tool's own `isError` result; error: a JSON-RPC error. */
  readonly status: "ok" | "tool_error" | "error";
  /** The Sentinel error code, or `jsonrpc:<n>` for an upstream's own JSON-RPC error. */
  readonly code?: string;
  readonly httpStatus: number;
}

/** Microseconds spent in each pipeline stage; absent stages did not run. */
export interface StageTimings {
  readonly resolve?: number;
  readonly policy?: number;
  readonly vault?: number;
  readonly forward?: number;
  /** From emit until the record was sealed into the spool batch. */
  readonly audit?: number;
  readonly total: number;
}

/** A Content Guard finding: its type and the JSON path it was found at, never the value. */
export interface GuardFinding {
  readonly type: string;
  readonly path: string;
}

export interface AdminChange {
  /** `cli` (sentinel apply), `file` (the watched config file changed), `start`, `api:<user>` later. */
  readonly who: string;
  /** Human-readable summary of what changed, one entry per changed item. */
  readonly what: readonly string[];
  /** `sha256:<hex>` of the canonical config before and after; before is null at first load. */
  readonly before: string | null;
  readonly after: string;
}

export interface CheckpointDetails {
  /** The seq and hash of the record this checkpoint signs (the one right before it). */
  readonly covers: number;
  readonly head: string;
  readonly keyId: string;
  readonly alg: "Ed25519";
  /** base64 signature over `checkpointMessage(chain, covers, head)`. */
  readonly sig: string;
}

export interface AuditRecord {
  readonly v: 1;
  readonly kind: RecordKind;
  /** The chain this record belongs to: one per spool (gateway process data dir). */
  readonly chain: string;
  readonly seq: number;
  /** Hash of the previous record of the chain; 64 zeros for seq 1. */
  readonly prev: string;
  /** sha256 hex over the canonical encoding of every other member. */
  readonly hash: string;
  /** The call's trace id (x-sentinel-trace-id); a fresh id for admin and checkpoint records. */
  readonly id: string;
  /** ISO-8601 UTC with milliseconds. */
  readonly time: string;
  readonly tenant?: string;
  readonly keyId?: string;
  readonly user?: string;
  readonly role?: string;
  /** The caller's stated metadata (x-sentinel-metadata), fixed for the session. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly session?: string;
  readonly connection?: string;
  readonly method?: string;
  readonly target?: string;
  readonly name?: string;
  readonly decision?: AuditDecision;
  readonly ruleId?: string;
  readonly reasons?: readonly string[];
  readonly outcome?: AuditOutcome;
  readonly timings?: StageTimings;
  readonly upstream?: string;
  /** Per `audit.arguments`: absent (none), keys with "[redacted]" values (redacted), or as sent (full). */
  readonly arguments?: unknown;
  readonly findings?: readonly GuardFinding[];
  readonly credential?: { readonly id: string; readonly version: number };
  /** Token Guard's counts for the call: `in` (arguments) and `out` (result), each only if it was counted. */
  readonly tokens?: { readonly in?: number; readonly out?: number };
  /** What the tenant's price table charges for the call, in US dollars. */
  readonly cost?: { readonly usd: number };
  readonly admin?: AdminChange;
  readonly checkpoint?: CheckpointDetails;
}

/** A record before it is sealed into the chain. */
export type UnsealedRecord = Omit<AuditRecord, "chain" | "seq" | "prev" | "hash">;

export type ArgumentsMode = "none" | "redacted" | "full";

export const REDACTED = "[redacted]";

/** Arguments as the configured mode stores them: redacted keeps the shape and keys, never a value. */
export function storedArguments(args: unknown, mode: ArgumentsMode): unknown {
  if (mode === "none" || args === undefined) return undefined;
  if (mode === "full") return args;
  return redact(args, 0);
}

function redact(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return REDACTED;
  // Keys can be data too, but policy conditions and guards address arguments by key, so an
  // auditor needs them; nesting is kept to a sane depth so a hostile payload cannot blow the stack.
  if (depth >= 16) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redact(v, depth + 1);
  return out;
}
