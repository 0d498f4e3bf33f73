/**
 * A root key inside a PKCS#11 token (an HSM; SoftHSM2 in CI). The key is an AES-256 object
 * generated on the token with CKA_SENSITIVE and without CKA_EXTRACTABLE, so its value never
 * leaves the device: data keys go in, AES-GCM wrapped bytes come out, and the reverse.
 *
 * Versions are key objects that share a label and carry their version number as CKA_ID; the
 * highest is active. The PIN comes from an environment variable, never from the config file.
 */
import { randomBytes } from "node:crypto";
import type * as Pkcs11Module from "pkcs11js";
import { NONCE_BYTES, TAG_BYTES, VaultIntegrityError } from "./envelope.js";
import { RootKeyError, refLabel, type KeyProvider, type RootKeyRef } from "./key-provider.js";
import { openPkcs11Session, type Pkcs11, type Pkcs11Session } from "./pkcs11-session.js";

export interface Pkcs11Options {
  /** Path to the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  readonly library: string;
  readonly tokenLabel: string;
  readonly pin: string;
  readonly keyLabel: string;
}

export const DEFAULT_PKCS11_KEY_LABEL = "sentinel-root";

export class Pkcs11KeyProvider implements KeyProvider {
  readonly kind = "pkcs11";
  private readonly id: string;
  private versions: Array<{ version: number; handle: Buffer }>;
  private readonly p11: Pkcs11;
  private readonly lib: Pkcs11Module.PKCS11;
  private readonly session: Buffer;
  /**
   * A PKCS#11 session runs one cryptographic operation at a time: C_EncryptInit followed by
   * C_Encrypt must not interleave with another caller's Init. The async calls yield to the event
   * loop between the two, so every operation queues behind the previous one. (Other providers
   * in the process have sessions of their own; see pkcs11-session.ts.)
   */
  private queue: Promise<unknown> = Promise.resolve();
  /** Set by close(): an operation queued after it would run on a session being closed. */
  private closing = false;

  private constructor(
    private readonly shared: Pkcs11Session,
    private readonly options: Pkcs11Options,
  ) {
    this.p11 = shared.p11;
    this.lib = shared.lib;
    this.session = shared.handle;
    this.id = `pkcs11:${options.tokenLabel}/${options.keyLabel}`;
    this.versions = [];
  }

  static open(options: Pkcs11Options, create: boolean): Pkcs11KeyProvider {
    const shared = openPkcs11Session(options.library, options.tokenLabel, options.pin);
    try {
      const provider = new Pkcs11KeyProvider(shared, options);
      provider.findVersions();
      if (provider.versions.length === 0) {
        if (!create) throw new RootKeyError(`token "${options.tokenLabel}" has no key labelled "${options.keyLabel}"`);
        provider.generate(1);
      }
      return provider;
    } catch (err) {
      shared.close();
      throw err;
    }
  }

  get active(): RootKeyRef {
    return { id: this.id, version: this.newest().version };
  }

  holds(ref: RootKeyRef): boolean {
    return ref.id === this.id && this.versions.some((v) => v.version === ref.version);
  }

  wrap(dataKey: Buffer, aad: Buffer): Promise<Buffer> {
    const key = this.newest();
    return this.serial(async () => {
      const nonce = randomBytes(NONCE_BYTES);
      this.lib.C_EncryptInit(this.session, this.gcm(nonce, aad), key.handle);
      const out = Buffer.alloc(dataKey.length + TAG_BYTES);
      const sealed = this.shared.threaded ? await this.lib.C_EncryptAsync(this.session, dataKey, out) : this.lib.C_Encrypt(this.session, dataKey, out);
      return Buffer.concat([nonce, sealed]);
    });
  }

  unwrap(ref: RootKeyRef, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    const key = this.versions.find((v) => v.version === ref.version);
    if (ref.id !== this.id || key === undefined) return Promise.reject(new RootKeyError(`root key ${refLabel(ref)} is not on token "${this.options.tokenLabel}"`));
    return this.serial(async () => {
      this.lib.C_DecryptInit(this.session, this.gcm(wrapped.subarray(0, NONCE_BYTES), aad), key.handle);
      try {
        const out = Buffer.alloc(wrapped.length);
        return this.shared.threaded ? await this.lib.C_DecryptAsync(this.session, wrapped.subarray(NONCE_BYTES), out) : this.lib.C_Decrypt(this.session, wrapped.subarray(NONCE_BYTES), out);
      } catch (err) {
        // Tokens report a failed GCM tag check differently (SoftHSM2 says CKR_GENERAL_ERROR).
        throw new VaultIntegrityError(`data key under root key ${refLabel(ref)}: the HSM refused to unwrap it (${(err as Error).message}); altered record or wrong key`);
      }
    });
  }

  async addVersion(): Promise<RootKeyRef> {
    const version = this.newest().version + 1;
    await this.serial(async () => this.generate(version));
    return { id: this.id, version };
  }

  async retire(keep: readonly RootKeyRef[]): Promise<RootKeyRef[]> {
    const active = this.newest().version;
    const gone = this.versions.filter((v) => v.version !== active && !keep.some((r) => r.id === this.id && r.version === v.version));
    await this.serial(async () => {
      for (const v of gone) this.lib.C_DestroyObject(this.session, v.handle);
    });
    this.versions = this.versions.filter((v) => !gone.includes(v));
    return gone.map((v) => ({ id: this.id, version: v.version }));
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.queue.catch(() => undefined);
    this.shared.close();
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new RootKeyError(`the PKCS#11 root key ${this.id} is closed`));
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private gcm(iv: Buffer, aad: Buffer): Pkcs11Module.Mechanism {
    const parameter: Pkcs11Module.GcmParams = { type: this.p11.CK_PARAMS_GCM, iv, ivBits: NONCE_BYTES * 8, aad, tagBits: TAG_BYTES * 8 };
    return { mechanism: this.p11.CKM_AES_GCM, parameter };
  }

  private newest(): { version: number; handle: Buffer } {
    return this.versions.reduce((a, b) => (b.version > a.version ? b : a));
  }

  private findVersions(): void {
    const p = this.p11;
    this.lib.C_FindObjectsInit(this.session, [
      { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
      { type: p.CKA_LABEL, value: this.options.keyLabel },
    ]);
    const handles = this.lib.C_FindObjects(this.session, 1000);
    this.lib.C_FindObjectsFinal(this.session);
    this.versions = handles.map((handle) => {
      const [id, extractable] = this.lib.C_GetAttributeValue(this.session, handle, [{ type: p.CKA_ID }, { type: p.CKA_EXTRACTABLE }]);
      // A root key that could be exported is not the HSM guarantee the operator asked for.
      if (extractable!.value[0] !== 0) throw new RootKeyError(`key "${this.options.keyLabel}" on token "${this.options.tokenLabel}" is extractable; refusing to use it as a root key`);
      const version = Number(id!.value.toString("ascii"));
      if (!Number.isInteger(version) || version < 1) throw new RootKeyError(`key "${this.options.keyLabel}" has CKA_ID "${id!.value.toString("ascii")}", not a version number`);
      return { version, handle };
    });
  }

  private generate(version: number): void {
    const p = this.p11;
    const handle = this.lib.C_GenerateKey(this.session, { mechanism: p.CKM_AES_KEY_GEN }, [
      { type: p.CKA_CLASS, value: p.CKO_SECRET_KEY },
      { type: p.CKA_KEY_TYPE, value: p.CKK_AES },
      { type: p.CKA_VALUE_LEN, value: 32 },
      { type: p.CKA_TOKEN, value: true },
      { type: p.CKA_PRIVATE, value: true },
      { type: p.CKA_SENSITIVE, value: true },
      { type: p.CKA_EXTRACTABLE, value: false },
      { type: p.CKA_ENCRYPT, value: true },
      { type: p.CKA_DECRYPT, value: true },
      { type: p.CKA_LABEL, value: this.options.keyLabel },
      { type: p.CKA_ID, value: Buffer.from(String(version), "ascii") },
    ]);
    this.versions.push({ version, handle });
  }
}
