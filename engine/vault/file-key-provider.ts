/**
 * The default root key: a JSON key file in the data dir, created with mode 0600 on first use.
 * It can hold several versions so that `sentinel vault rewrap --new-root-key` can add a version,
 * re-wrap every data key under it, and only then retire the old one: a crash at any point
 * leaves every data key unwrappable by some version still in the file.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { randomBytes } from "node:crypto";
import { KEY_BYTES } from "./envelope.js";
import { keyCheckValue, RootKeyError, sameRef, softwareUnwrap, softwareWrap, type KeyProvider, type RootKeyRef } from "./key-provider.js";

interface KeyFileEntry {
  version: number;
  id: string;
  createdAt: string;
  key: string;
}

interface KeyFile {
  format: 1;
  keys: KeyFileEntry[];
}

export class FileKeyProvider implements KeyProvider {
  readonly kind = "file";
  private keys: Array<{ ref: RootKeyRef; key: Buffer; createdAt: string }>;

  private constructor(
    readonly path: string,
    file: KeyFile,
  ) {
    this.keys = file.keys.map((e) => ({ ref: { id: e.id, version: e.version }, key: Buffer.from(e.key, "base64"), createdAt: e.createdAt }));
  }

  /** Opens the key file; with `create`, a missing file is created with a fresh key. */
  static open(path: string, create: boolean): FileKeyProvider {
    if (!existsSync(path)) {
      if (!create) throw new RootKeyError(`root key file ${path} does not exist`);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const provider = new FileKeyProvider(path, { format: 1, keys: [] });
      provider.keys.push(fresh(1));
      provider.persist(true);
      return provider;
    }
    // Like ssh with a private key: a root key readable by others is refused, not used.
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new RootKeyError(`root key file ${path} has mode ${mode.toString(8)}; it must not be readable by group or others (chmod 600)`);
    let file: KeyFile;
    try {
      file = JSON.parse(readFileSync(path, "utf8")) as KeyFile;
    } catch (err) {
      throw new RootKeyError(`root key file ${path} is not valid JSON: ${(err as Error).message}`);
    }
    if (file.format !== 1 || !Array.isArray(file.keys) || file.keys.length === 0) throw new RootKeyError(`root key file ${path} has no keys`);
    const provider = new FileKeyProvider(path, file);
    for (const k of provider.keys) {
      if (k.key.length !== KEY_BYTES || `file:${keyCheckValue(k.key)}` !== k.ref.id) {
        throw new RootKeyError(`root key file ${path}: version ${k.ref.version} is damaged (its key does not match its id ${k.ref.id})`);
      }
    }
    return provider;
  }

  get active(): RootKeyRef {
    return this.newest().ref;
  }

  holds(ref: RootKeyRef): boolean {
    return this.keys.some((k) => sameRef(k.ref, ref));
  }

  async wrap(dataKey: Buffer, aad: Buffer): Promise<Buffer> {
    return softwareWrap(this.newest().key, dataKey, aad);
  }

  async unwrap(ref: RootKeyRef, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    const entry = this.keys.find((k) => sameRef(k.ref, ref));
    if (entry === undefined) throw new RootKeyError(`root key ${ref.id}#${ref.version} is not in ${this.path}`);
    return softwareUnwrap(entry.key, wrapped, aad, ref);
  }

  async addVersion(): Promise<RootKeyRef> {
    const entry = fresh(this.newest().ref.version + 1);
    this.keys.push(entry);
    this.persist(false);
    return entry.ref;
  }

  async retire(keep: readonly RootKeyRef[]): Promise<RootKeyRef[]> {
    const active = this.active;
    const gone = this.keys.filter((k) => !sameRef(k.ref, active) && !keep.some((r) => sameRef(r, k.ref)));
    if (gone.length === 0) return [];
    this.keys = this.keys.filter((k) => !gone.includes(k));
    this.persist(false);
    for (const k of gone) k.key.fill(0);
    return gone.map((k) => k.ref);
  }

  async close(): Promise<void> {
    for (const k of this.keys) k.key.fill(0);
  }

  private newest(): { ref: RootKeyRef; key: Buffer } {
    return this.keys.reduce((a, b) => (b.ref.version > a.ref.version ? b : a));
  }

  /** Writes the file with mode 0600 from the first byte: created exclusively, or replaced by rename. */
  private persist(exclusive: boolean): void {
    const body: KeyFile = {
      format: 1,
      keys: this.keys.map((k) => ({ version: k.ref.version, id: k.ref.id, createdAt: k.createdAt, key: k.key.toString("base64") })),
    };
    const text = JSON.stringify(body, null, 2) + "\n";
    const target = exclusive ? this.path : `${this.path}.${process.pid}.tmp`;
    let fd: number;
    try {
      fd = openSync(target, "wx", 0o600);
    } catch (err) {
      throw new RootKeyError(`cannot create root key file ${target}: ${(err as Error).message}`);
    }
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    if (!exclusive) renameSync(target, this.path);
  }
}

function fresh(version: number): { ref: RootKeyRef; key: Buffer; createdAt: string } {
  const key = randomBytes(KEY_BYTES);
  return { ref: { id: `file:${keyCheckValue(key)}`, version }, key, createdAt: new Date().toISOString() };
}
