/**
 * A root key from an environment variable (base64 or hex, 32 bytes), for platforms that inject
 * secrets as env vars. It has one version; to change it, configure the old one as
 * `vault.previousRootKey` and run `sentinel vault rewrap`.
 */
import { keyCheckValue, parseRawKey, RootKeyError, sameRef, softwareUnwrap, softwareWrap, type KeyProvider, type RootKeyRef } from "./key-provider.js";

export const DEFAULT_ROOT_KEY_VARIABLE = "SENTINEL_VAULT_ROOT_KEY";

export class EnvKeyProvider implements KeyProvider {
  readonly kind = "env";
  readonly active: RootKeyRef;
  private readonly key: Buffer;

  constructor(variable: string, env: Record<string, string | undefined> = process.env) {
    const text = env[variable];
    if (text === undefined || text.trim() === "") throw new RootKeyError(`the root key variable ${variable} is not set`);
    this.key = parseRawKey(text, `the root key variable ${variable}`);
    this.active = { id: `env:${keyCheckValue(this.key)}`, version: 1 };
  }

  holds(ref: RootKeyRef): boolean {
    return sameRef(ref, this.active);
  }

  async wrap(dataKey: Buffer, aad: Buffer): Promise<Buffer> {
    return softwareWrap(this.key, dataKey, aad);
  }

  async unwrap(ref: RootKeyRef, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    return softwareUnwrap(this.key, wrapped, aad, ref);
  }

  async addVersion(): Promise<RootKeyRef> {
    throw new RootKeyError("an env root key cannot add a version: set a new key in the variable and the old one as vault.previousRootKey, then run `sentinel vault rewrap`");
  }

  async retire(): Promise<RootKeyRef[]> {
    return [];
  }

  async close(): Promise<void> {
    this.key.fill(0);
  }
}
