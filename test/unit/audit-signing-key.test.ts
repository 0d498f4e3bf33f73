// The checkpoint signing key under the vault's root key: created wrapped, never on disk in the
// clear, unwrapped only by the root key that wrapped it, migrated from a plaintext key file, and
// moved along when the root key changes; its public half always stays verifiable.
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSigningKey, rewrapSigningKey, signsWithVault, wrappedKeyPath } from "../../engine/audit/signing-key.js";
import { ed25519Verifiers, publicKeyPath } from "../../engine/audit/signer.js";
import { checkpointMessage } from "../../engine/audit/chain.js";
import type { SentinelConfig } from "../../engine/config/types.js";
import { KeyRing } from "../../engine/vault/key-ring.js";
import { tempDir } from "../support/audit-fixtures.js";

const rings: KeyRing[] = [];
afterEach(async () => {
  await Promise.all(rings.splice(0).map((r) => r.close()));
});

/** A file root key in `dataDir` (created on first use), as the vault opens it. */
function fileRing(dataDir: string): KeyRing {
  const ring = KeyRing.open({ rootKey: { provider: "file" } }, dataDir, true);
  rings.push(ring);
  return ring;
}

const noLog = () => undefined;
const message = checkpointMessage("chain", 1, "a".repeat(64));

function verifies(keyFile: string, keyId: string, sig: string): boolean {
  const key = ed25519Verifiers(readFileSync(publicKeyPath(keyFile), "utf8")).find((k) => k.keyId === keyId);
  return key?.verify(message, sig) ?? false;
}

describe("the audit signing key under a vault root key", () => {
  it("is created wrapped: no plaintext key on disk, and checkpoints verify with the public key beside the spool", async () => {
    const dir = tempDir();
    const keyFile = join(dir, "signing-key.pem");
    const signer = await openSigningKey(keyFile, fileRing(dir), noLog);
    expect(existsSync(keyFile)).toBe(false);
    const text = readFileSync(wrappedKeyPath(keyFile), "utf8");
    expect(text).not.toMatch(/PRIVATE KEY/);
    const wrapped = JSON.parse(text) as { keyId: string; rootKey: { id: string }; wrappedKey: string };
    expect(wrapped.keyId).toBe(signer.keyId);
    expect(wrapped.rootKey.id).toMatch(/^file:/);
    expect(() => createPrivateKey({ key: Buffer.from(wrapped.wrappedKey, "base64"), format: "der", type: "pkcs8" })).toThrow();
    expect(verifies(keyFile, signer.keyId, signer.sign(message))).toBe(true);
  });

  it("unwraps the same key on the next start", async () => {
    const dir = tempDir();
    const keyFile = join(dir, "signing-key.pem");
    const first = await openSigningKey(keyFile, fileRing(dir), noLog);
    const again = await openSigningKey(keyFile, fileRing(dir), noLog);
    expect(again.keyId).toBe(first.keyId);
    expect(verifies(keyFile, first.keyId, again.sign(message))).toBe(true);
  });

  it("refuses to start with a different root key, naming both", async () => {
    const dir = tempDir();
    const keyFile = join(dir, "signing-key.pem");
    await openSigningKey(keyFile, fileRing(dir), noLog);
    renameSync(join(dir, "vault-root.key"), join(dir, "old-root.key"));
    await expect(openSigningKey(keyFile, fileRing(dir), noLog)).rejects.toThrow(/cannot unwrap the audit signing key .*wrapped by root key file:[0-9a-f]+#1.*configured root key is file:[0-9a-f]+#1/);
  });

  it("refuses a wrapped key whose bytes were altered or whose key id was swapped", async () => {
    const dir = tempDir();
    const keyFile = join(dir, "signing-key.pem");
    await openSigningKey(keyFile, fileRing(dir), noLog);
    const path = wrappedKeyPath(keyFile);
    const original = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    const flipped = Buffer.from(original.wrappedKey as string, "base64");
    flipped[20]! ^= 1;
    writeFileSync(path, JSON.stringify({ ...original, wrappedKey: flipped.toString("base64") }));
    await expect(openSigningKey(keyFile, fileRing(dir), noLog)).rejects.toThrow(/authentication failed/);
    writeFileSync(path, JSON.stringify({ ...original, keyId: "0123456789abcdef" }));
    await expect(openSigningKey(keyFile, fileRing(dir), noLog)).rejects.toThrow(/authentication failed/);
  });

  it("wraps an existing plaintext key file on first start with a vault, keeping its key id, and removes the plaintext", async () => {
    const dir = tempDir();
    const keyFile = join(dir, "signing-key.pem");
    const plain = await openSigningKey(keyFile, undefined, noLog);
    expect(existsSync(keyFile)).toBe(true);
    const lines: string[] = [];
    const wrapped = await openSigningKey(keyFile, fileRing(dir), (l) => lines.push(l));
    expect(wrapped.keyId).toBe(plain.keyId);
    expect(existsSync(keyFile)).toBe(false);
    expect(lines.join("\n")).toMatch(new RegExp(`audit signing key ${plain.keyId} is now wrapped by root key file:`));
    expect(ed25519Verifiers(readFileSync(publicKeyPath(keyFile), "utf8")).map((k) => k.keyId)).toEqual([plain.keyId]);
  });

  it("is re-wrapped under a new root key version, so the old version can be retired", async () => {
    const dir = tempDir();
    const keyFile = join(dir, "signing-key.pem");
    const ring = fileRing(dir);
    const signer = await openSigningKey(keyFile, ring, noLog);
    const v2 = await ring.primary.addVersion();
    expect(await rewrapSigningKey(keyFile, ring)).toEqual(v2);
    await ring.primary.retire([v2]);
    const again = await openSigningKey(keyFile, fileRing(dir), noLog);
    expect(again.keyId).toBe(signer.keyId);
  });

  it("is not silently replaced by a plaintext key when the vault is gone", async () => {
    const dir = tempDir();
    const keyFile = join(dir, "signing-key.pem");
    await openSigningKey(keyFile, fileRing(dir), noLog);
    await expect(openSigningKey(keyFile, undefined, noLog)).rejects.toThrow(/is wrapped by a vault root key, but this process has no vault/);
    expect(existsSync(keyFile)).toBe(false);
  });
});

describe("which key a config signs with", () => {
  const base: SentinelConfig = { version: 1, server: { host: "127.0.0.1", port: 0, maxBodyBytes: 1, sessionIdleTimeoutMs: 1 }, tenants: [{ id: "acme", apiKeys: [] }] };
  it.each<[string, Partial<SentinelConfig>, boolean]>([
    ["no vault and no credentials: the local key file", {}, false],
    ["a vault section", { vault: { rootKey: { provider: "env" } } }, true],
    ["credentials in the (default) vault", { tenants: [{ id: "acme", apiKeys: [], credentials: [{ name: "c", type: "bearer", connections: [] }] }] }, true],
  ])("%s", (_label, extra, expected) => {
    expect(signsWithVault({ ...base, ...extra } as SentinelConfig, join(tempDir(), "signing-key.pem"))).toBe(expected);
  });
});

describe("the public key list", () => {
  it("keeps every key a spool signed with, so a checkpoint from before a key change still verifies", async () => {
    const dir = tempDir();
    const keyFile = join(dir, "signing-key.pem");
    const first = await openSigningKey(keyFile, undefined, noLog);
    const oldSig = first.sign(message);
    // A new key (the old one lost): the list grows, it is never rewritten.
    const { privateKey } = generateKeyPairSync("ed25519");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    const second = await openSigningKey(keyFile, undefined, noLog);
    expect(second.keyId).not.toBe(first.keyId);
    expect(ed25519Verifiers(readFileSync(publicKeyPath(keyFile), "utf8")).map((k) => k.keyId)).toEqual([first.keyId, second.keyId]);
    expect(verifies(keyFile, first.keyId, oldSig)).toBe(true);
    expect(verifies(keyFile, second.keyId, second.sign(message))).toBe(true);
  });
});
