/**
 * A sealed secret version as stored in the vault file, and the two operations on it that need
 * the root key: seal (new data key, wrap it, encrypt the secret) and open (unwrap, decrypt).
 * Re-wrapping swaps the wrapped data key and leaves the secret's ciphertext untouched.
 */
import { dataKeyAad, newDataKey, open, seal, secretAad, type SecretAddress } from "./envelope.js";
import type { KeyRing } from "./key-ring.js";
import { sameRef, type RootKeyRef } from "./key-provider.js";

export interface SecretRecord extends SecretAddress {
  readonly createdAt: string;
  /** How the version arrived: `cli`, `bootstrap-env`, `schedule`, `api`. */
  readonly source: string;
  readonly rootKey: RootKeyRef;
  /** The data key, AES-GCM wrapped under `rootKey`: nonce ‖ ciphertext ‖ tag, base64. */
  readonly wrappedKey: string;
  readonly nonce: string;
  readonly ciphertext: string;
  readonly tag: string;
}

export const recordLabel = (a: SecretAddress): string => `${a.tenant}/${a.credential} v${a.version}`;

export async function sealRecord(ring: KeyRing, address: SecretAddress, secret: Buffer, source: string, now = new Date()): Promise<SecretRecord> {
  const dataKey = newDataKey();
  try {
    const sealed = seal(dataKey, secret, secretAad(address));
    const { ref, wrapped } = await ring.wrap(dataKey, (r) => dataKeyAad(address, r.id, r.version));
    return {
      tenant: address.tenant,
      credential: address.credential,
      version: address.version,
      createdAt: now.toISOString(),
      source,
      rootKey: { id: ref.id, version: ref.version },
      wrappedKey: wrapped.toString("base64"),
      nonce: sealed.nonce.toString("base64"),
      ciphertext: sealed.ciphertext.toString("base64"),
      tag: sealed.tag.toString("base64"),
    };
  } finally {
    dataKey.fill(0);
  }
}

/** The plaintext secret; the caller owns the buffer and should zero it when done. */
export async function openRecord(ring: KeyRing, record: SecretRecord): Promise<Buffer> {
  const dataKey = await ring.unwrap(record.rootKey, Buffer.from(record.wrappedKey, "base64"), dataKeyAad(record, record.rootKey.id, record.rootKey.version));
  try {
    const sealed = { nonce: Buffer.from(record.nonce, "base64"), ciphertext: Buffer.from(record.ciphertext, "base64"), tag: Buffer.from(record.tag, "base64") };
    return open(dataKey, sealed, secretAad(record), recordLabel(record));
  } finally {
    dataKey.fill(0);
  }
}

/** The same record with its data key wrapped under the ring's primary root key. */
export async function rewrapRecord(ring: KeyRing, record: SecretRecord): Promise<SecretRecord> {
  if (sameRef(record.rootKey, ring.active)) return record;
  const dataKey = await ring.unwrap(record.rootKey, Buffer.from(record.wrappedKey, "base64"), dataKeyAad(record, record.rootKey.id, record.rootKey.version));
  try {
    const { ref, wrapped } = await ring.wrap(dataKey, (r) => dataKeyAad(record, r.id, r.version));
    return { ...record, rootKey: { id: ref.id, version: ref.version }, wrappedKey: wrapped.toString("base64") };
  } finally {
    dataKey.fill(0);
  }
}
