/**
 * The `audit` config section resolved into options, with defaults, and the checks JSON Schema
 * cannot express (a route naming an unknown channel, a webhook without a secret). Done once at
 * load; nothing downstream re-validates.
 */
import { isAbsolute, join, resolve } from "node:path";
import type { AuditConfig, SentinelConfig } from "../config/types.js";
import type { RouteConfig } from "./alerts/alert.js";
import type { ChannelConfig } from "./alerts/channels.js";
import type { RetryPolicy } from "./alerts/deliver.js";
import type { AuditLogOptions } from "./audit-log.js";
import type { KafkaSinkOptions } from "./sinks/kafka-sink.js";
import type { StoreSpec } from "../store/open-store.js";

export interface ResolvedAudit {
  readonly dir: string;
  readonly signingKeyFile: string;
  readonly segmentBytes: number;
  readonly log: Omit<AuditLogOptions, "log">;
  readonly store: StoreSpec | undefined;
  readonly kafka: KafkaSinkOptions | undefined;
  readonly alerts: { channels: ChannelConfig[]; routes: RouteConfig[]; retry: RetryPolicy } | undefined;
}

export const AUDIT_DEFAULTS = {
  arguments: "redacted",
  durability: "written",
  segmentBytes: 64 * 1024 * 1024,
  maxBytes: 1024 * 1024 * 1024,
  syncIntervalMs: 10,
  everyRecords: 1000,
  intervalMs: 1000,
  retry: { attempts: 5, initialDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 10_000 },
} as const;

/**
 * `dataDir` anchors relative paths and the default directory. `defaultStore` is what an absent
 * `sinks.store` means: the embedded store for a data-dir gateway, none for an inline config.
 */
export function resolveAudit(config: AuditConfig | undefined, dataDir: string, defaultStore: "embedded" | "none"): ResolvedAudit | undefined {
  const a = config ?? {};
  if (a.enabled === false) return undefined;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dataDir, p));
  const dir = abs(a.dir ?? "audit");
  const storeCfg: NonNullable<NonNullable<AuditConfig["sinks"]>["store"]> = a.sinks?.store ?? { kind: defaultStore };
  let store: StoreSpec | undefined;
  if (storeCfg.kind === "embedded") store = { kind: "embedded", dir: abs(storeCfg.dir ?? join(dataDir, "store")) };
  else if (storeCfg.kind === "postgres") {
    const url = storeCfg.url ?? process.env.DATABASE_URL;
    if (url === undefined || url === "") throw new Error("audit.sinks.store: kind postgres needs a url or DATABASE_URL");
    store = { kind: "postgres", url };
  }
  return {
    dir,
    signingKeyFile: signingKeyFileOf(a, dataDir),
    segmentBytes: a.spool?.segmentBytes ?? AUDIT_DEFAULTS.segmentBytes,
    log: {
      argumentsMode: a.arguments ?? AUDIT_DEFAULTS.arguments,
      durability: a.durability ?? AUDIT_DEFAULTS.durability,
      checkpointEvery: a.checkpoint?.everyRecords ?? AUDIT_DEFAULTS.everyRecords,
      checkpointIntervalMs: a.checkpoint?.intervalMs ?? AUDIT_DEFAULTS.intervalMs,
      maxSpoolBytes: a.spool?.maxBytes ?? AUDIT_DEFAULTS.maxBytes,
      syncIntervalMs: a.spool?.syncIntervalMs ?? AUDIT_DEFAULTS.syncIntervalMs,
    },
    store,
    kafka: a.sinks?.kafka,
    alerts:
      a.alerts === undefined
        ? undefined
        : {
            channels: a.alerts.channels,
            routes: a.alerts.routes as RouteConfig[],
            retry: { ...AUDIT_DEFAULTS.retry, ...a.alerts.retry },
          },
  };
}

/** Where the signing key of the audit section's spool lives (without reading anything else of it). */
export function signingKeyFileOf(config: AuditConfig | undefined, dataDir: string): string {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(dataDir, p));
  return abs(config?.signingKeyFile ?? join(abs(config?.dir ?? "audit"), "signing-key.pem"));
}

/** Config checks beyond the schema; `fail` throws a SentinelConfigError naming the path. */
export function checkAuditSemantics(config: SentinelConfig, fail: (path: string, reason: string) => never): void {
  const alerts = config.audit?.alerts;
  if (alerts === undefined) return;
  const ids = new Set<string>();
  alerts.channels.forEach((c, i) => {
    if (ids.has(c.id)) fail(`audit.alerts.channels[${i}].id`, `duplicate channel id "${c.id}"`);
    ids.add(c.id);
    if (c.type === "webhook" && c.secret === undefined) fail(`audit.alerts.channels[${i}].secret`, "a webhook channel needs a secret (HMAC-SHA256 key, at least 16 characters)");
  });
  alerts.routes.forEach((r, i) =>
    r.channels.forEach((c, j) => {
      if (!ids.has(c)) fail(`audit.alerts.routes[${i}].channels[${j}]`, `no alert channel "${c}"`);
    }),
  );
}
