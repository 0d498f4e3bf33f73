/**
 * API keys: random, high-entropy bearer secrets, stored only as a SHA-256 hash.
 *
 * A fast hash is the right tool here (unlike passwords): a key carries 256 bits of entropy, so
 * there is nothing to brute-force, and a lookup by hash in a Map leaks nothing useful through
 * timing because the attacker does not control the hash.
 */
import { createHash, randomBytes } from "node:crypto";

const KEY_PREFIX = "sk_sentinel_";

export const hashApiKey = (key: string): string => "sha256:" + createHash("sha256").update(key, "utf8").digest("hex");

export interface NewApiKey {
  /** Shown once; never stored. */
  readonly key: string;
  readonly hash: string;
}

export function generateApiKey(): NewApiKey {
  const key = KEY_PREFIX + randomBytes(32).toString("base64url");
  return { key, hash: hashApiKey(key) };
}

/** Extracts the key from `Authorization: Bearer <key>`; undefined when absent or malformed. */
export function bearerToken(header: string): string | undefined {
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return match?.[1];
}
