/**
 * Starts a gateway: compiles the config, opens the front, and (when given a file) watches it so
 * an edited or re-applied config is published without a restart. A config that fails to load
 * is reported and the running one stays in force.
 */
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import { compileConfig, type RuntimeConfig } from "./config/compile-config.js";
import { loadConfigFile } from "./config/load-config.js";
import type { SentinelConfig } from "./config/types.js";
import { startFront, type RunningFront } from "./front/http-front.js";
import { Gateway } from "./gateway/gateway.js";
import { Vault } from "./vault/vault.js";
import { auditVaultEvents } from "./vault/vault-audit.js";
import { adminChange, whoChanged } from "./audit/admin-change.js";
import { startGatewayAudit } from "./audit/gateway-audit.js";

export interface StartOptions {
  /** A config file to load and watch, or an already validated config. */
  config: string | SentinelConfig;
  host?: string;
  port?: number;
  /** Print reload events. */
  log?: (line: string) => void;
  /** Where the vault file and the default root key file live; defaults to the config file's directory. */
  dataDir?: string;
  /** What an absent `audit.sinks.store` means: the embedded PGlite store in the data dir (`sentinel start`), or none. */
  auditStore?: "embedded" | "none";
}

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly gateway: Gateway;
  /** Reloads the config file now (the watcher calls this on change). */
  reload(): boolean;
  close(): Promise<void>;
}

export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const log = options.log ?? (() => undefined);
  const file = typeof options.config === "string" ? options.config : "<inline config>";
  const load = (): RuntimeConfig => {
    const config = typeof options.config === "string" ? loadConfigFile(options.config) : options.config;
    return compileConfig(config, file);
  };
  const runtime = load();
  const dataDir = options.dataDir ?? (typeof options.config === "string" ? dirname(options.config) : undefined);
  const vault = dataDir === undefined ? undefined : new Vault({ dataDir, config: runtime.source.vault, log });
  if (vault === undefined && runtime.source.tenants.some((t) => (t.credentials?.length ?? 0) > 0)) {
    throw new Error("a config with credentials needs a data dir for its vault (startGateway's dataDir)");
  }
  let gateway: Gateway;
  try {
    gateway = new Gateway(runtime, vault);
    // A wrong or missing root key fails start-up here, naming the key ids, rather than failing
    // the first call of each credential later.
    if (vault?.inUse) await vault.verify();
  } catch (err) {
    await vault?.close();
    throw err;
  }
  // The audit trail opens before the front does: no call is ever served without it.
  try {
    gateway.audit = await startGatewayAudit(runtime.source, dataDir, options.auditStore ?? "none", { log, vault });
  } catch (err) {
    await gateway.close();
    await vault?.close();
    throw err;
  }
  // The vault starts after the audit trail, so its first events (an overdue rotation found at
  // start) are audited too.
  const stopVaultAudit = gateway.audit === undefined ? undefined : auditVaultEvents(gateway.audit);
  vault?.start();
  const front: RunningFront = await startFront({
    host: options.host ?? runtime.server.host,
    port: options.port ?? runtime.server.port,
    maxBodyBytes: () => gateway.runtime.server.maxBodyBytes,
    handle: (req, ex) => gateway.handle(req, ex),
  });

  const reload = (): boolean => {
    try {
      const before = gateway.runtime.source;
      const next = load();
      gateway.publish(next);
      // One admin record per change that took effect; who is "cli:<user>" after `sentinel apply`.
      const change = adminChange(whoChanged(file, next.source), before, next.source);
      if (change.before !== change.after) gateway.audit?.recordAdminChange(change);
      log(`config reloaded from ${file} (generation ${gateway.configGeneration})`);
      return true;
    } catch (err) {
      log(`config not reloaded, keeping the running one: ${(err as Error).message}`);
      return false;
    }
  };

  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  if (typeof options.config === "string") {
    // Editors and `sentinel apply` replace the file (rename), which some platforms report as
    // several events: debounce them into one reload.
    // The directory is watched, not the file: a replaced file is a new inode that a watch on
    // the old one would never report.
    const name = basename(options.config);
    watcher = watch(dirname(options.config), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(debounce);
      debounce = setTimeout(reload, 100);
    });
  }

  return {
    url: front.url,
    port: front.port,
    gateway,
    reload,
    async close() {
      clearTimeout(debounce);
      watcher?.close();
      front.close();
      await gateway.close();
      stopVaultAudit?.();
      await gateway.audit?.close();
      await vault?.close();
    },
  };
}
