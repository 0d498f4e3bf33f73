/**
 * Where the checkpoint signing key comes from. With a vault configured, the Ed25519 key is kept
 * wrapped (AES-256-GCM) by the vault's root key in `<audit dir>/signing-key.wrapped.json`, the
 * way the vault wraps data keys, and unwrapped once at start through the configured KeyProvider:
 * with a PKCS#11 root key the HSM does the unwrapping and the root key never leaves it. Without
 * a vault, the plaintext key file (signer.ts) is the fallback.
 *
 * Migration: a plaintext `signing-key.pem` found at start while a vault is configured is wrapped
 * (same key, same key id, so earlier checkpoints verify unchanged) and the plaintext file is
 * removed. A key wrapped under an older root key version is re-wrapped under the active one, so
 * retiring old root key versions never strands it.
 *
 * Verification needs no secret: every key's public half stays in `signing-key.pub.pem`.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { SentinelConfig } from "../config/types.js";
import { refLabel, sameRef, type RootKeyRef } from "../vault/key-provider.js";
import type { KeyRing } from "../vault/key-ring.js";
import { ed25519Signer, keyIdOf, loadOrCreateKeyFile, publicKeyPath, readKeyFile, rememberPublicKey, type Signer } from "./signer.js";

/** What the signing key needs of the vault's key ring. */
export type RootKeys = Pick<KeyRing, "active" | "wrap" | "unwrap" | "primary" | "previous">;

interface WrappedKeyFile {
  readonly format: 1;
  readonly alg: "Ed25519";
  readonly keyId: string;
  readonly rootKey: RootKeyRef;
  /** The PKCS#8 DER private key wrapped under `rootKey`: nonce ‖ ciphertext ‖ tag, base64. */
  readonly wrappedKey: string;
  readonly createdAt: string;
}

/** The standalone admin's own spool, `<data dir>/admin-audit` (cli/store-commands.ts). */
export const ADMIN_AUDIT_DIR = "admin-audit";

export const wrappedKeyPath = (keyFile: string): string => keyFile.replace(/(\.pem)?$/, ".wrapped.json");

/** Binds the wrapped bytes to the key id and root key version, so neither can be swapped in the file. */
const keyAad = (keyId: string, ref: RootKeyRef): Buffer => Buffer.from(JSON.stringify(["sentinel-audit-signing-key-v1", keyId, ref.id, ref.version]));

/**
 * Whether this config's signing key goes under the vault's root key: it names a vault, or a
 * tenant keeps credentials in it (then the default file root key), or the key is wrapped already.
 */
export function signsWithVault(config: SentinelConfig, keyFile: string): boolean {
  return config.vault !== undefined || config.tenants.some((t) => (t.credentials?.length ?? 0) > 0) || existsSync(wrappedKeyPath(keyFile));
}

export async function openSigningKey(keyFile: string, rootKeys: RootKeys | undefined, log: (line: string) => void): Promise<Signer> {
  const wrappedFile = wrappedKeyPath(keyFile);
  if (rootKeys === undefined) {
    if (existsSync(wrappedFile)) throw new Error(`the audit signing key ${wrappedFile} is wrapped by a vault root key, but this process has no vault; give it the data dir and vault config that wrapped it`);
    return loadOrCreateKeyFile(keyFile);
  }
  if (existsSync(keyFile)) {
    const privateKey = readKeyFile(keyFile);
    rememberPublicKey(publicKeyPath(keyFile), createPublicKey(privateKey));
    const ref = await persistWrapped(wrappedFile, privateKey, rootKeys);
    removePlaintext(keyFile, log);
    log(`audit signing key ${keyIdOf(createPublicKey(privateKey))} is now wrapped by root key ${refLabel(ref)} in ${wrappedFile}; the plaintext key file was removed`);
    return ed25519Signer(privateKey);
  }
  if (!existsSync(wrappedFile)) {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    rememberPublicKey(publicKeyPath(keyFile), publicKey);
    await persistWrapped(wrappedFile, privateKey, rootKeys);
    return ed25519Signer(privateKey);
  }
  const { privateKey, file } = await unwrapKeyFile(wrappedFile, rootKeys);
  rememberPublicKey(publicKeyPath(keyFile), createPublicKey(privateKey));
  if (!sameRef(file.rootKey, rootKeys.active)) {
    const ref = await persistWrapped(wrappedFile, privateKey, rootKeys);
    log(`audit signing key ${file.keyId} re-wrapped from root key ${refLabel(file.rootKey)} to ${refLabel(ref)}`);
  }
  return ed25519Signer(privateKey);
}

/**
 * `sentinel vault rewrap`: moves a wrapped signing key to the ring's active root key. Returns the
 * root key it is wrapped under now, or undefined when there is no wrapped key at that path.
 */
export async function rewrapSigningKey(keyFile: string, rootKeys: RootKeys): Promise<RootKeyRef | undefined> {
  const wrappedFile = wrappedKeyPath(keyFile);
  if (!existsSync(wrappedFile)) return undefined;
  const { privateKey, file } = await unwrapKeyFile(wrappedFile, rootKeys);
  return sameRef(file.rootKey, rootKeys.active) ? file.rootKey : persistWrapped(wrappedFile, privateKey, rootKeys);
}

async function unwrapKeyFile(wrappedFile: string, rootKeys: RootKeys): Promise<{ privateKey: KeyObject; file: WrappedKeyFile }> {
  let file: WrappedKeyFile;
  try {
    file = JSON.parse(readFileSync(wrappedFile, "utf8")) as WrappedKeyFile;
  } catch (err) {
    throw new Error(`audit signing key ${wrappedFile} is not valid JSON: ${(err as Error).message}`);
  }
  if (file.format !== 1 || file.alg !== "Ed25519" || typeof file.keyId !== "string" || typeof file.wrappedKey !== "string" || typeof file.rootKey?.id !== "string") {
    throw new Error(`audit signing key ${wrappedFile} is not a wrapped Ed25519 key (format 1)`);
  }
  const held = [rootKeys.primary, rootKeys.previous].filter((p) => p !== undefined);
  if (!held.some((p) => p.holds(file.rootKey))) {
    throw new Error(
      `cannot unwrap the audit signing key ${wrappedFile} (key ${file.keyId}): it was wrapped by root key ${refLabel(file.rootKey)}, but the configured root key is ` +
        `${held.map((p) => refLabel(p.active)).join(" and ")}; configure the old one as vault.previousRootKey (the next start re-wraps the signing key)`,
    );
  }
  let der: Buffer;
  try {
    der = await rootKeys.unwrap(file.rootKey, Buffer.from(file.wrappedKey, "base64"), keyAad(file.keyId, file.rootKey));
  } catch (err) {
    throw new Error(`cannot unwrap the audit signing key ${wrappedFile} (key ${file.keyId}, wrapped by root key ${refLabel(file.rootKey)}): ${(err as Error).message}`);
  }
  try {
    const privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    if (privateKey.asymmetricKeyType !== "ed25519" || keyIdOf(createPublicKey(privateKey)) !== file.keyId) {
      throw new Error(`audit signing key ${wrappedFile} does not hold the Ed25519 key ${file.keyId}`);
    }
    return { privateKey, file };
  } finally {
    der.fill(0);
  }
}

/** Wraps the key under the active root key and replaces the file atomically, 0600 from the first byte. */
async function persistWrapped(wrappedFile: string, privateKey: KeyObject, rootKeys: RootKeys): Promise<RootKeyRef> {
  const keyId = keyIdOf(createPublicKey(privateKey));
  const der = privateKey.export({ type: "pkcs8", format: "der" });
  let ref: RootKeyRef;
  let wrapped: Buffer;
  try {
    ({ ref, wrapped } = await rootKeys.wrap(der, (r) => keyAad(keyId, r)));
  } finally {
    der.fill(0);
  }
  const body: WrappedKeyFile = { format: 1, alg: "Ed25519", keyId, rootKey: { id: ref.id, version: ref.version }, wrappedKey: wrapped.toString("base64"), createdAt: new Date().toISOString() };
  const tmp = `${wrappedFile}.${process.pid}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, JSON.stringify(body, null, 2) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, wrappedFile);
  syncDir(dirname(wrappedFile));
  return ref;
}

/** Only once the wrapped copy is durable: a crash in between leaves both, and the next start migrates again. */
function removePlaintext(keyFile: string, log: (line: string) => void): void {
  try {
    unlinkSync(keyFile);
    syncDir(dirname(keyFile));
  } catch (err) {
    log(`audit signing key: could not remove the plaintext key file ${keyFile} (${(err as Error).message}); remove it, the wrapped copy is in use`);
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
