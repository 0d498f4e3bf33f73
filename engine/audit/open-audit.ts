/**
 * Builds the audit pipeline from resolved config: the spool in the audit directory, the signer,
 * and one shipper per configured sink. Network sinks connect lazily inside their shipper, so a
 * store or broker that is down at start-up delays shipping, never the gateway's start.
 */
import { openStore } from "../store/open-store.js";
import { compileRoute } from "./alerts/alert.js";
import { makeChannel } from "./alerts/channels.js";
import type { ResolvedAudit } from "./audit-config.js";
import { AuditLog } from "./audit-log.js";
import { Shipper } from "./shipper.js";
import type { Signer } from "./signer.js";
import { openSigningKey, signsWithVault, type RootKeys } from "./signing-key.js";
import type { AuditSink } from "./sink.js";
import { alertSink } from "./sinks/alert-sink.js";
import { kafkaSink } from "./sinks/kafka-sink.js";
import { storeSink } from "./sinks/store-sink.js";
import { Spool } from "./spool.js";
import type { Store } from "../store/store.js";
import type { SentinelConfig } from "../config/types.js";
import { Vault } from "../vault/vault.js";

export interface OpenAuditOptions {
  readonly log: (line: string) => void;
  /** Replaces the signing key altogether (tests). */
  readonly signer?: Signer;
  /** The vault's root keys, when the signing key is kept wrapped by them (signing-key.ts). */
  readonly rootKeys?: RootKeys;
  /** Extra sinks (tests, future plugins), shipped like the configured ones. */
  readonly extraSinks?: readonly AuditSink[];
  /** The configured store, already open (the embedded one is opened before the gateway serves). */
  readonly store?: Store;
}

/** A sink over a store opened on first use, so an unreachable database is retried like a failed write. */
function lazyStoreSink(spec: NonNullable<ResolvedAudit["store"]>): AuditSink {
  let inner: AuditSink | undefined;
  let store: Store | undefined;
  return {
    name: "store",
    async start() {
      store = await openStore(spec);
      inner = storeSink(store);
    },
    write: (batch) => inner!.write(batch),
    async close() {
      await store?.close();
    },
  };
}

export async function openAudit(resolved: ResolvedAudit, options: OpenAuditOptions): Promise<AuditLog> {
  // The spool's lock is taken first: the signing key files are only ever created, migrated or
  // re-wrapped by the one process that owns the spool.
  const spool = Spool.open(resolved.dir, { segmentBytes: resolved.segmentBytes }, options.log);
  try {
    const signer = options.signer ?? (await openSigningKey(resolved.signingKeyFile, options.rootKeys, options.log));
    const sinks: AuditSink[] = [];
    if (options.store !== undefined) sinks.push(storeSink(options.store));
    else if (resolved.store !== undefined) sinks.push(lazyStoreSink(resolved.store));
    if (resolved.kafka !== undefined) sinks.push(kafkaSink(resolved.kafka));
    if (resolved.alerts !== undefined) {
      const channels = new Map(resolved.alerts.channels.map((c) => [c.id, makeChannel(c)]));
      sinks.push(alertSink({ auditDir: resolved.dir, channels, routes: resolved.alerts.routes.map(compileRoute), retry: resolved.alerts.retry, log: options.log }));
    }
    sinks.push(...(options.extraSinks ?? []));
    const shipperOptions = { batchSize: 1000, minBackoffMs: 100, maxBackoffMs: 5000, log: options.log };
    const shippers = sinks.map((s) => new Shipper(s, spool, shipperOptions));
    return new AuditLog(spool, signer, { ...resolved.log, log: options.log }, shippers);
  } catch (err) {
    void spool.close();
    throw err;
  }
}

/**
 * For a process that writes to a spool without being the gateway (`sentinel apply` with no
 * gateway running, the standalone admin): opens the vault's root keys just long enough to
 * unwrap the signing key, when the config keeps it wrapped.
 */
export async function openAuditWithVault(resolved: ResolvedAudit, config: SentinelConfig, dataDir: string, log: (line: string) => void): Promise<AuditLog> {
  if (!signsWithVault(config, resolved.signingKeyFile)) return openAudit(resolved, { log });
  const vault = new Vault({ dataDir, config: config.vault, log });
  try {
    return await openAudit(resolved, { log, rootKeys: vault.ring() });
  } finally {
    await vault.close();
  }
}
