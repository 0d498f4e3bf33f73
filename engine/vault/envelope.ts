/**
 * Envelope encryption of one secret version.
 *
 * Each version gets its own random 256-bit data key; the secret is sealed with AES-256-GCM under
 * it, with a fresh random 96-bit nonce and AAD that names the tenant, credential and version.
 * The data key itself is wrapped by the root key (see key-ring.ts), so the vault file holds
 * nothing usable without the root key, and re-wrapping under a new root key never touches the
 * secret ciphertext.
 *
 * The AAD is why a record cannot be moved: copying acme/github-prod v2's ciphertext into
 * globex/stripe v7 (or rolling a version number back) fails authentication instead of
 * decrypting someone else's secret.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/** Where a sealed secret belongs; every field is bound into the AAD. */
export interface SecretAddress {
  readonly tenant: string;
  readonly credential: string;
  readonly version: number;
}

export interface Sealed {
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/** A sealed record failed authentication: tampered, moved, or opened with the wrong key. */
export class VaultIntegrityError extends Error {
  override readonly name = "VaultIntegrityError";
}

/**
 * The AAD is a JSON array rather than a joined string: identifiers cannot contain the
 * separators today, but an encoding that is unambiguous by construction does not depend on it.
 */
export const secretAad = (a: SecretAddress): Buffer => Buffer.from(JSON.stringify(["sentinel-secret-v1", a.tenant, a.credential, a.version]));

export const dataKeyAad = (a: SecretAddress, rootKeyId: string, rootKeyVersion: number): Buffer =>
  Buffer.from(JSON.stringify(["sentinel-data-key-v1", a.tenant, a.credential, a.version, rootKeyId, rootKeyVersion]));

export const newDataKey = (): Buffer => randomBytes(KEY_BYTES);

export function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  if (key.length !== KEY_BYTES) throw new RangeError(`AES-256-GCM needs a ${KEY_BYTES}-byte key, got ${key.length}`);
  // A random 96-bit nonce per message: each data key seals exactly one secret version (and each
  // root key a few thousand data keys at most), far below the 2^32 messages per key at which
  // random GCM nonces start to risk a collision.
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, ciphertext, tag: cipher.getAuthTag() };
}

export function open(key: Buffer, sealed: Sealed, aad: Buffer, what: string): Buffer {
  if (key.length !== KEY_BYTES) throw new RangeError(`AES-256-GCM needs a ${KEY_BYTES}-byte key, got ${key.length}`);
  if (sealed.nonce.length !== NONCE_BYTES || sealed.tag.length !== TAG_BYTES) {
    throw new VaultIntegrityError(`${what}: malformed envelope (nonce ${sealed.nonce.length} bytes, tag ${sealed.tag.length} bytes)`);
  }
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.tag);
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    // GCM reports every failure the same way; the message says what it can mean without
    // pretending to know which.
    throw new VaultIntegrityError(`${what}: authentication failed (ciphertext, nonce or binding altered, or the wrong key)`);
  }
}

/** nonce ‖ ciphertext ‖ tag, the compact form used for wrapped data keys. */
export const packSealed = (s: Sealed): Buffer => Buffer.concat([s.nonce, s.ciphertext, s.tag]);

export function unpackSealed(packed: Buffer, what: string): Sealed {
  if (packed.length < NONCE_BYTES + TAG_BYTES + 1) throw new VaultIntegrityError(`${what}: wrapped key is truncated`);
  return {
    nonce: packed.subarray(0, NONCE_BYTES),
    ciphertext: packed.subarray(NONCE_BYTES, packed.length - TAG_BYTES),
    tag: packed.subarray(packed.length - TAG_BYTES),
  };
}
