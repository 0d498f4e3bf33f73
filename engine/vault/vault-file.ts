/**
 * The vault file (`<data dir>/vault.json`, mode 0600): sealed secret versions, never a clear
 * secret. Writers are the CLI (`vault put|rotate|rewrap`) and the gateway itself (bootstrap from
 * env, scheduled rotation), possibly at the same time in different processes, so every update
 * is read-modify-write under an exclusive lock file and lands by rename: a reader (the watching
 * gateway) sees the old file or the new one, never half of one, and no writer loses another's
 * version.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import type { KeyRing } from "./key-ring.js";
import { sealRecord, type SecretRecord } from "./secret-records.js";
import { processAlive } from "../util/process-alive.js";

export const DEFAULT_VAULT_FILE = "vault.json";
/** Versions kept per credential: the active one and the previous ones an operator may roll back to. */
export const KEEP_VERSIONS = 3;
const LOCK_WAIT_MS = 10_000;

export interface VaultFileData {
  readonly format: 1;
  readonly secrets: readonly SecretRecord[];
}

export class VaultFileError extends Error {
  override readonly name = "VaultFileError";
}

export function readVaultFile(path: string): VaultFileData {
  if (!existsSync(path)) return { format: 1, secrets: [] };
  let data: VaultFileData;
  try {
    data = JSON.parse(readFileSync(path, "utf8")) as VaultFileData;
  } catch (err) {
    throw new VaultFileError(`vault file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (data.format !== 1 || !Array.isArray(data.secrets)) throw new VaultFileError(`vault file ${path} has an unknown format`);
  return data;
}

/** The newest version of each credential, keyed `tenant/credential`. */
export function latestVersions(data: VaultFileData): Map<string, SecretRecord> {
  const latest = new Map<string, SecretRecord>();
  for (const r of data.secrets) {
    const key = `${r.tenant}/${r.credential}`;
    const known = latest.get(key);
    if (known === undefined || r.version > known.version) latest.set(key, r);
  }
  return latest;
}

/** Runs `change` on the current contents under the lock and writes its result atomically. */
export async function updateVaultFile(path: string, change: (data: VaultFileData) => Promise<VaultFileData> | VaultFileData): Promise<VaultFileData> {
  const release = await lock(`${path}.lock`);
  try {
    const next = await change(readVaultFile(path));
    const temp = `${path}.${process.pid}.tmp`;
    const fd = openSync(temp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify({ format: 1, secrets: prune(next.secrets) }, null, 2) + "\n");
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    return next;
  } finally {
    release();
  }
}

/** Stores the next version of a secret under the vault file lock; used by the gateway and the CLI. */
export async function storeVersion(ring: KeyRing, file: string, tenant: string, credential: string, secret: string, source: string): Promise<SecretRecord> {
  let stored: SecretRecord | undefined;
  await updateVaultFile(file, async (data) => {
    const version = data.secrets.filter((r) => r.tenant === tenant && r.credential === credential).reduce((n, r) => Math.max(n, r.version), 0) + 1;
    const plain = Buffer.from(secret, "utf8");
    stored = await sealRecord(ring, { tenant, credential, version }, plain, source);
    plain.fill(0);
    return { format: 1, secrets: [...data.secrets, stored] };
  });
  return stored!;
}

function prune(secrets: readonly SecretRecord[]): SecretRecord[] {
  const byCredential = new Map<string, SecretRecord[]>();
  for (const r of secrets) {
    const key = `${r.tenant}/${r.credential}`;
    byCredential.set(key, [...(byCredential.get(key) ?? []), r]);
  }
  return [...byCredential.values()].flatMap((list) => list.sort((a, b) => a.version - b.version).slice(-KEEP_VERSIONS));
}

/**
 * An exclusive lock file holding the owner's pid. `wx` creation is atomic on local file
 * systems; a lock whose owner died (a killed CLI) is taken over rather than blocking forever.
 */
async function lock(file: string): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = Number(readFileSafe(file));
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
      rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new VaultFileError(`the vault file is locked by process ${owner} (${file}); try again, or remove the lock if that process is gone`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

