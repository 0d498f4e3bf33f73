/**
 * Audit for one gateway process: where its spool lives and what it records about its own
 * config. A gateway with a data dir keeps the spool in `<data dir>/audit`; `sentinel start` also
 * ships to the embedded store by default. An inline config (tests, embedding) without
 * `audit.dir` spools to a fresh temporary directory, so two such gateways in one process never
 * contend for one spool.
 *
 * The embedded store is opened here, before the gateway serves: creating PGlite keeps the event
 * loop busy for seconds, which must not happen under live calls. A network store connects lazily
 * in its shipper instead, so a database that is down never stops the gateway from starting.
 *
 * With a vault configured, the checkpoint signing key is unwrapped here through the vault's root
 * key (signing-key.ts); a gateway without a data dir has no vault and keeps a local key file.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SentinelConfig } from "../config/types.js";
import { adminChange } from "./admin-change.js";
import { resolveAudit } from "./audit-config.js";
import type { AuditLog } from "./audit-log.js";
import { openAudit, type OpenAuditOptions } from "./open-audit.js";
import { signsWithVault } from "./signing-key.js";
import { openStore } from "../store/open-store.js";
import type { Vault } from "../vault/vault.js";

export async function startGatewayAudit(
  config: SentinelConfig,
  dataDir: string | undefined,
  defaultStore: "embedded" | "none",
  options: OpenAuditOptions & { readonly vault?: Pick<Vault, "ring"> },
): Promise<AuditLog | undefined> {
  const base = dataDir ?? (config.audit?.dir === undefined ? mkdtempSync(join(tmpdir(), "sentinel-audit-")) : process.cwd());
  const resolved = resolveAudit(config.audit, base, dataDir === undefined ? "none" : defaultStore);
  if (resolved === undefined) return undefined;
  const store = resolved.store?.kind === "embedded" ? await openStore(resolved.store) : undefined;
  const rootKeys = options.vault !== undefined && signsWithVault(config, resolved.signingKeyFile) ? options.vault.ring() : undefined;
  const audit = await openAudit(resolved, { ...options, store, rootKeys });
  // The config in force at start is the first admin record of every run.
  audit.recordAdminChange(adminChange("file", undefined, config));
  return audit;
}
