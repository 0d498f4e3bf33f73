/**
 * The configured root key (`vault.rootKey`) plus, while a migration is under way, the previous
 * one (`vault.previousRootKey`). New data keys are wrapped under the primary; a data key is
 * unwrapped by whichever provider holds the root key version recorded beside it.
 */
import { isAbsolute, join } from "node:path";
import type { RootKeyConfig, VaultConfig } from "../config/types.js";
import { DEFAULT_ROOT_KEY_VARIABLE, EnvKeyProvider } from "./env-key-provider.js";
import { FileKeyProvider } from "./file-key-provider.js";
import { refLabel, RootKeyError, type KeyProvider, type RootKeyRef } from "./key-provider.js";
import { DEFAULT_PKCS11_KEY_LABEL, Pkcs11KeyProvider } from "./pkcs11-key-provider.js";

export const DEFAULT_ROOT_KEY_FILE = "vault-root.key";

export class KeyRing {
  constructor(
    readonly primary: KeyProvider,
    readonly previous: KeyProvider | undefined,
  ) {}

  /** Opens the providers a vault config names; `create` lets a missing file or HSM key be made. */
  static open(config: VaultConfig | undefined, dataDir: string, create: boolean): KeyRing {
    const primary = openProvider(config?.rootKey ?? { provider: "file" }, dataDir, create);
    try {
      const previous = config?.previousRootKey === undefined ? undefined : openProvider(config.previousRootKey, dataDir, false);
      return new KeyRing(primary, previous);
    } catch (err) {
      void primary.close();
      throw err;
    }
  }

  get active(): RootKeyRef {
    return this.primary.active;
  }

  async wrap(dataKey: Buffer, aad: (ref: RootKeyRef) => Buffer): Promise<{ ref: RootKeyRef; wrapped: Buffer }> {
    const ref = this.primary.active;
    return { ref, wrapped: await this.primary.wrap(dataKey, aad(ref)) };
  }

  unwrap(ref: RootKeyRef, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    const provider = [this.primary, this.previous].find((p) => p?.holds(ref));
    if (provider === undefined) {
      const held = [this.primary, this.previous].filter((p) => p !== undefined).map((p) => refLabel(p.active));
      return Promise.reject(
        new RootKeyError(
          `the data key was wrapped by root key ${refLabel(ref)}, but the configured root key is ${held.join(" and ")}; ` +
            "configure the old key as vault.previousRootKey and run `sentinel vault rewrap`",
        ),
      );
    }
    return provider.unwrap(ref, wrapped, aad);
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.previous?.close()]);
  }
}

function openProvider(config: RootKeyConfig, dataDir: string, create: boolean): KeyProvider {
  switch (config.provider) {
    case "file": {
      const path = config.path ?? DEFAULT_ROOT_KEY_FILE;
      return FileKeyProvider.open(isAbsolute(path) ? path : join(dataDir, path), create);
    }
    case "env":
      return new EnvKeyProvider(config.variable ?? DEFAULT_ROOT_KEY_VARIABLE);
    case "pkcs11": {
      const pin = process.env[config.pinEnv];
      if (pin === undefined) throw new RootKeyError(`the HSM PIN variable ${config.pinEnv} is not set`);
      return Pkcs11KeyProvider.open({ library: config.library, tokenLabel: config.tokenLabel, pin, keyLabel: config.keyLabel ?? DEFAULT_PKCS11_KEY_LABEL }, create);
    }
  }
}
