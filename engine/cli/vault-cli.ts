/**
 * `sentinel vault …`: how secrets get into the vault, and how its keys are managed. Secrets
 * are read from a file or stdin, never from an argument (which `ps` and shell history would
 * show), sealed under the data dir's root key and written to its vault file; a running gateway
 * watching that file rotates to the new version with a drain.
 *
 *   vault put     --tenant T --credential C [--secret-file F|-]   store a version (the first, or the next)
 *   vault rotate  --tenant T --credential C [--secret-file F|-]   store the next version; without a
 *                                                                 secret, run the credential's rotation.command
 *   vault list                                                    versions, masks, days to rotate
 *   vault rewrap  [--new-root-key] [--retire-old]                 re-wrap every data key (and the audit signing
 *                                                                 keys) under the configured root key
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigFile } from "../config/load-config.js";
import type { CredentialConfig, SentinelConfig } from "../config/types.js";
import { secretProblem } from "../vault/credential-material.js";
import { signingKeyFileOf } from "../audit/audit-config.js";
import { ADMIN_AUDIT_DIR, rewrapSigningKey } from "../audit/signing-key.js";
import { refLabel, type RootKeyRef } from "../vault/key-provider.js";
import { KeyRing } from "../vault/key-ring.js";
import { mask } from "../vault/masking.js";
import { credentialStatuses, type CredentialStatus } from "../vault/credential-status.js";
import { runRotationCommand } from "../vault/rotation-schedule.js";
import { rewrapRecord } from "../vault/secret-records.js";
import { describeVaultEvent } from "../vault/vault-events.js";
import { DEFAULT_VAULT_FILE, latestVersions, readVaultFile, updateVaultFile } from "../vault/vault-file.js";
import { storeVersion } from "../vault/vault-file.js";
import { loadDataDirConfig } from "./live-config.js";

export interface VaultCliOptions {
  readonly dataDir: string;
  readonly config: string | undefined;
  readonly tenant: string | undefined;
  readonly credential: string | undefined;
  readonly secretFile: string | undefined;
  readonly newRootKey: boolean;
  readonly retireOld: boolean;
}

export class VaultUsageError extends Error {}

export async function runVaultCli(sub: string | undefined, o: VaultCliOptions, out: (line: string) => void): Promise<number> {
  const config = o.config !== undefined ? loadConfigFile(o.config) : await loadDataDirConfig(o.dataDir);
  const file = vaultFile(config, o.dataDir);
  switch (sub) {
    case "put":
    case "rotate": {
      const { tenant, credential } = target(config, o);
      const existing = readVaultFile(file).secrets.some((r) => r.tenant === tenant && r.credential === credential.name);
      if (sub === "rotate" && !existing) throw new VaultUsageError(`${tenant}/${credential.name} has no version yet; store the first with \`sentinel vault put\``);
      let secret: string;
      if (o.secretFile !== undefined || sub === "put") secret = readSecret(o.secretFile, credential);
      else if (credential.rotation?.command !== undefined) secret = await runRotationCommand(credential.rotation.command);
      else throw new VaultUsageError(`give the new secret with --secret-file FILE (or - for stdin); ${credential.name} has no rotation.command`);
      const problem = secretProblem(credential.type, secret);
      if (problem !== undefined) throw new VaultUsageError(`credential ${credential.name}: ${problem}`);
      // A new root key is made only for an empty vault: one made beside sealed secrets could open none of them.
      const ring = KeyRing.open(config.vault, o.dataDir, readVaultFile(file).secrets.length === 0);
      try {
        const record = await storeVersion(ring, file, tenant, credential.name, secret, "cli");
        out(`stored ${tenant}/${credential.name} v${record.version} (${mask(secret)}) in ${file}, data key wrapped by root key ${refLabel(record.rootKey)}`);
        if (record.version > 1) out("a running gateway switches to it after in-flight calls on the previous version finish");
      } finally {
        await ring.close();
      }
      return 0;
    }
    case "list":
      await list(config, o.dataDir, file, out);
      return 0;
    case "rewrap": {
      const ring = KeyRing.open(config.vault, o.dataDir, true);
      try {
        if (o.newRootKey) out(`new root key version ${refLabel(await ring.primary.addVersion())}`);
        const data = await updateVaultFile(file, async (d) => ({ format: 1, secrets: await Promise.all(d.secrets.map((r) => rewrapRecord(ring, r))) }));
        out(describeVaultEvent({ type: "rewrapped", records: data.secrets.length, rootKey: refLabel(ring.active), at: new Date().toISOString() }));
        // The audit signing keys are wrapped by the same root key: moved too, or retiring would strand them.
        const signingKeys: RootKeyRef[] = [];
        for (const keyFile of auditKeyFiles(config, o.dataDir)) {
          const ref = await rewrapSigningKey(keyFile, ring);
          if (ref === undefined) continue;
          signingKeys.push(ref);
          out(`audit signing key ${keyFile} is wrapped by root key ${refLabel(ref)}`);
        }
        if (o.retireOld) {
          const gone = await ring.primary.retire([...data.secrets.map((r) => r.rootKey), ...signingKeys]);
          out(gone.length === 0 ? "no old root key versions to retire" : `retired root key versions ${gone.map(refLabel).join(", ")}`);
        }
      } finally {
        await ring.close();
      }
      return 0;
    }
    default:
      throw new VaultUsageError("usage: sentinel vault put|rotate|list|rewrap [--tenant T --credential C --secret-file F|-] [--new-root-key] [--retire-old]");
  }
}

/** The signing keys of the data dir's spools (the gateway's, the standalone admin's). */
function auditKeyFiles(config: SentinelConfig, dataDir: string): string[] {
  return [signingKeyFileOf(config.audit, dataDir), join(dataDir, ADMIN_AUDIT_DIR, "signing-key.pem")];
}

function vaultFile(config: SentinelConfig, dataDir: string): string {
  const f = config.vault?.file ?? DEFAULT_VAULT_FILE;
  return f.startsWith("/") ? f : join(dataDir, f);
}

function target(config: SentinelConfig, o: VaultCliOptions): { tenant: string; credential: CredentialConfig } {
  if (o.tenant === undefined || o.credential === undefined) throw new VaultUsageError("give --tenant and --credential");
  const tenant = config.tenants.find((t) => t.id === o.tenant);
  if (tenant === undefined) throw new VaultUsageError(`no tenant "${o.tenant}" in the config`);
  const credential = tenant.credentials?.find((c) => c.name === o.credential);
  if (credential === undefined) throw new VaultUsageError(`tenant "${o.tenant}" declares no credential "${o.credential}"; declare it in the config first`);
  return { tenant: tenant.id, credential };
}

/** The secret from a file or stdin; one trailing newline (what editors and echo add) is dropped. */
function readSecret(path: string | undefined, credential: CredentialConfig): string {
  if (path === undefined && process.stdin.isTTY) throw new VaultUsageError("give the secret with --secret-file FILE, or pipe it on stdin (--secret-file -)");
  const text = readFileSync(path === undefined || path === "-" ? 0 : path, "utf8");
  return credential.type === "env" ? text : text.replace(/\r?\n$/, "");
}

async function list(config: SentinelConfig, dataDir: string, file: string, out: (line: string) => void): Promise<void> {
  const latest = latestVersions(readVaultFile(file));
  let ring: KeyRing | Error | undefined;
  try {
    if (latest.size > 0) ring = KeyRing.open(config.vault, dataDir, false);
  } catch (err) {
    ring = err as Error;
  }
  let statuses: CredentialStatus[];
  try {
    statuses = await credentialStatuses(config, latest, ring);
  } finally {
    if (ring instanceof KeyRing) await ring.close();
  }
  const rows = [["TENANT", "CREDENTIAL", "TYPE", "VERSION", "CREATED", "DAYS TO ROTATE", "SECRET", "CONNECTIONS"]];
  for (const c of statuses) {
    const version = c.version === undefined ? "-" : `v${c.version}`;
    rows.push([c.tenant, c.name, c.type, version, c.createdAt?.slice(0, 19) ?? "-", c.daysToRotate?.toFixed(1) ?? "-", c.masked ?? "(none; sentinel vault put)", c.connections.join(",")]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out(r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
}
