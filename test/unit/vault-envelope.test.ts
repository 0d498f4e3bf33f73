import { chmodSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VaultIntegrityError } from "../../engine/vault/envelope.js";
import { EnvKeyProvider } from "../../engine/vault/env-key-provider.js";
import { RootKeyError } from "../../engine/vault/key-provider.js";
import { KeyRing } from "../../engine/vault/key-ring.js";
import { openRecord, rewrapRecord, sealRecord, type SecretRecord } from "../../engine/vault/secret-records.js";
import { readVaultFile } from "../../engine/vault/vault-file.js";
import { storeVersion } from "../../engine/vault/vault-file.js";

const SECRET = "ghp_" + "k7Qz2vX9mB4nR8tL1wP6sY3cF5hJ0dG8a4f";
const address = { tenant: "acme", credential: "github-prod", version: 3 };
const dir = () => mkdtempSync(join(tmpdir(), "sentinel-vault-unit-"));

/** Flips one bit of a base64 field. */
function flip(record: SecretRecord, field: "ciphertext" | "nonce" | "tag" | "wrappedKey", bit = 0): SecretRecord {
  const bytes = Buffer.from(record[field], "base64");
  bytes[bit >> 3]! ^= 1 << (bit & 7);
  return { ...record, [field]: bytes.toString("base64") };
}

describe("envelope encryption", () => {
  it("a sealed secret opens to the same bytes, and the record holds no clear secret", async () => {
    const ring = KeyRing.open(undefined, dir(), true);
    const record = await sealRecord(ring, address, Buffer.from(SECRET), "test");
    expect((await openRecord(ring, record)).toString()).toBe(SECRET);
    const stored = JSON.stringify(record);
    expect(stored).not.toContain(SECRET);
    expect(stored).not.toContain(Buffer.from(SECRET).toString("base64"));
    expect(Buffer.from(record.nonce, "base64")).toHaveLength(12);
    expect(record.rootKey).toMatchObject({ version: 1 });
    expect(record.rootKey.id).toMatch(/^file:[0-9a-f]{16}$/);
  });

  it("two seals of the same secret share no nonce and no ciphertext", async () => {
    const ring = KeyRing.open(undefined, dir(), true);
    const a = await sealRecord(ring, address, Buffer.from(SECRET), "test");
    const b = await sealRecord(ring, address, Buffer.from(SECRET), "test");
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.wrappedKey).not.toBe(b.wrappedKey);
  });

  it.each([
    ["ciphertext", 0],
    ["ciphertext", 77],
    ["nonce", 0],
    ["nonce", 95],
    ["tag", 5],
    ["wrappedKey", 3],
    ["wrappedKey", 200],
  ] as const)("a flipped bit in the %s (bit %i) is refused", async (field, bit) => {
    const ring = KeyRing.open(undefined, dir(), true);
    const record = await sealRecord(ring, address, Buffer.from(SECRET), "test");
    await expect(openRecord(ring, flip(record, field, bit))).rejects.toBeInstanceOf(VaultIntegrityError);
  });

  it.each([
    ["tenant", { tenant: "globex" }],
    ["credential", { credential: "stripe-prod" }],
    ["version", { version: 2 }],
  ])("a record moved to another %s fails authentication (the AAD binds it)", async (_what, change) => {
    const ring = KeyRing.open(undefined, dir(), true);
    const record = await sealRecord(ring, address, Buffer.from(SECRET), "test");
    await expect(openRecord(ring, { ...record, ...change })).rejects.toBeInstanceOf(VaultIntegrityError);
  });

  it("a wrong root key gives an error naming both key ids and the way out", async () => {
    const sealedWith = KeyRing.open(undefined, dir(), true);
    const record = await sealRecord(sealedWith, address, Buffer.from(SECRET), "test");
    const other = KeyRing.open(undefined, dir(), true);
    const error = await openRecord(other, record).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RootKeyError);
    expect((error as Error).message).toContain(`root key ${record.rootKey.id}#1`);
    expect((error as Error).message).toContain(`configured root key is ${other.active.id}#1`);
    expect((error as Error).message).toContain("sentinel vault rewrap");
  });

  it("a root key with the right id but other bytes is refused by authentication", async () => {
    const env = { K1: Buffer.alloc(32, 1).toString("base64") };
    const ring = new KeyRing(new EnvKeyProvider("K1", env), undefined);
    const record = await sealRecord(ring, address, Buffer.from(SECRET), "test");
    await expect(openRecord(ring, { ...record, wrappedKey: flip(record, "wrappedKey", 100).wrappedKey })).rejects.toBeInstanceOf(VaultIntegrityError);
  });
});

describe("root keys", () => {
  it("the key file is created with mode 0600 on first use and reused after", () => {
    const d = dir();
    const first = KeyRing.open(undefined, d, true).active;
    expect(statSync(join(d, "vault-root.key")).mode & 0o777).toBe(0o600);
    expect(KeyRing.open(undefined, d, false).active).toEqual(first);
  });

  it("a key file readable by others is refused", () => {
    const d = dir();
    KeyRing.open(undefined, d, true);
    chmodSync(join(d, "vault-root.key"), 0o644);
    expect(() => KeyRing.open(undefined, d, false)).toThrow(/chmod 600/);
  });

  it("a missing key file is not created when creating is not allowed", () => {
    expect(() => KeyRing.open(undefined, dir(), false)).toThrow(RootKeyError);
  });

  it.each([
    ["unset", undefined, /is not set/],
    ["too short", Buffer.alloc(16).toString("base64"), /32-byte key/],
    ["not base64", "not a key at all, clearly!!!!!!!!!!!!!!!!!!!", /32-byte key/],
  ])("an env root key that is %s is refused", (_what, value, message) => {
    expect(() => new EnvKeyProvider("ROOT", { ROOT: value })).toThrow(message);
  });

  it("rewrap moves every data key to a new root key version; the secrets still open and the old version can be retired", async () => {
    const d = dir();
    const ring = KeyRing.open(undefined, d, true);
    const file = join(d, "vault.json");
    await storeVersion(ring, file, "acme", "github-prod", SECRET, "test");
    const old = ring.active;
    const next = await ring.primary.addVersion();
    expect(next.version).toBe(2);
    const rewrapped = await Promise.all(readVaultFile(file).secrets.map((r) => rewrapRecord(ring, r)));
    expect(rewrapped[0]!.rootKey).toEqual(next);
    expect(rewrapped[0]!.ciphertext).toBe(readVaultFile(file).secrets[0]!.ciphertext);
    expect(await ring.primary.retire(rewrapped.map((r) => r.rootKey))).toEqual([old]);
    const reopened = KeyRing.open(undefined, d, false);
    expect((await openRecord(reopened, rewrapped[0]!)).toString()).toBe(SECRET);
    await expect(openRecord(reopened, readVaultFile(file).secrets[0]!)).rejects.toThrow(RootKeyError);
  });

  it("a previous root key still opens data keys until they are re-wrapped", async () => {
    const env = { OLD: Buffer.alloc(32, 7).toString("base64"), NEW: Buffer.alloc(32, 9).toString("base64") };
    const oldRing = new KeyRing(new EnvKeyProvider("OLD", env), undefined);
    const record = await sealRecord(oldRing, address, Buffer.from(SECRET), "test");
    const migrating = new KeyRing(new EnvKeyProvider("NEW", env), new EnvKeyProvider("OLD", env));
    expect((await openRecord(migrating, record)).toString()).toBe(SECRET);
    const moved = await rewrapRecord(migrating, record);
    expect(moved.rootKey).toEqual(migrating.active);
    expect((await openRecord(new KeyRing(new EnvKeyProvider("NEW", env), undefined), moved)).toString()).toBe(SECRET);
  });

  it("the vault file is written with mode 0600 and keeps the last three versions", async () => {
    const d = dir();
    const ring = KeyRing.open(undefined, d, true);
    const file = join(d, "vault.json");
    for (let i = 0; i < 5; i++) await storeVersion(ring, file, "acme", "c", `secret-number-${i}`, "test");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readVaultFile(file).secrets.map((r) => r.version)).toEqual([3, 4, 5]);
  });
});
