/**
 * Root keys. A KeyProvider holds one or more versions of a root key and wraps data keys under
 * the active one; which provider and version wrapped a data key is recorded beside it (a
 * RootKeyRef), so a key can be unwrapped after the active version moved on and re-wrapped under
 * the new one (`sentinel vault rewrap`).
 *
 * Providers: `file` (the default, a 0600 key file in the data dir), `env` (a key in an
 * environment variable) and `pkcs11` (an AES key inside an HSM that never leaves it).
 */
import { createHmac } from "node:crypto";
import { open, packSealed, seal, unpackSealed, KEY_BYTES } from "./envelope.js";

export interface RootKeyRef {
  /** Stable and non-secret: `file:<check value>`, `env:<check value>`, `pkcs11:<token>/<label>`. */
  readonly id: string;
  readonly version: number;
}

export interface KeyProvider {
  readonly kind: "file" | "env" | "pkcs11";
  /** The version new data keys are wrapped under. */
  readonly active: RootKeyRef;
  /** Whether this provider can unwrap data keys wrapped under `ref`. */
  holds(ref: RootKeyRef): boolean;
  wrap(dataKey: Buffer, aad: Buffer): Promise<Buffer>;
  unwrap(ref: RootKeyRef, wrapped: Buffer, aad: Buffer): Promise<Buffer>;
  /** Creates a new root key version and makes it active. */
  addVersion(): Promise<RootKeyRef>;
  /** Deletes the versions not in `keep` (never the active one); returns what it deleted. */
  retire(keep: readonly RootKeyRef[]): Promise<RootKeyRef[]>;
  close(): Promise<void>;
}

export const refLabel = (ref: RootKeyRef): string => `${ref.id}#${ref.version}`;
export const sameRef = (a: RootKeyRef, b: RootKeyRef): boolean => a.id === b.id && a.version === b.version;

/**
 * A non-secret identifier for a software root key: an HMAC of a fixed label under the key.
 * It lets the vault say "this data key was wrapped by root key file:3fa2…, the configured one
 * is file:9e01…" instead of a bare authentication failure, without revealing anything usable.
 */
export const keyCheckValue = (key: Buffer): string => createHmac("sha256", key).update("sentinel vault root key id").digest("hex").slice(0, 16);

/** AES-256-GCM wrap with a root key held in process memory (file and env providers). */
export function softwareWrap(rootKey: Buffer, dataKey: Buffer, aad: Buffer): Buffer {
  return packSealed(seal(rootKey, dataKey, aad));
}

export function softwareUnwrap(rootKey: Buffer, wrapped: Buffer, aad: Buffer, ref: RootKeyRef): Buffer {
  return open(rootKey, unpackSealed(wrapped, `data key under ${refLabel(ref)}`), aad, `data key under root key ${refLabel(ref)}`);
}

/** Parses a 32-byte key written as base64 (44 characters) or hex (64 characters). */
export function parseRawKey(text: string, where: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  // Buffer's base64 decoder skips junk silently; re-encoding catches a mistyped key.
  const exact = /^[0-9a-fA-F]{64}$/.test(t) || key.toString("base64") === t;
  if (key.length !== KEY_BYTES || !exact) throw new RootKeyError(`${where} must hold a ${KEY_BYTES}-byte key as base64 or 64 hex digits`);
  return key;
}

/** A root key cannot be read, created or used; start-up and the CLI report it as is. */
export class RootKeyError extends Error {
  override readonly name = "RootKeyError";
}
