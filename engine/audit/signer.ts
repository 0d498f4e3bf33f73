/**
 * Checkpoint signing. `Signer` is what the audit log signs with; where its key comes from is
 * signing-key.ts: wrapped by the vault's root key when a vault is configured, otherwise the local
 * key file kept here, created on first start with mode 0600 (and refused if anyone else can read
 * it). The key id (first 16 hex of SHA-256 over the DER public key) names the key in every
 * checkpoint, and every key a spool has signed with keeps its public half in one PEM file beside
 * it, so `sentinel audit verify` finds the right key for each checkpoint after a key change.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";

export interface Signer {
  readonly keyId: string;
  sign(message: Buffer): string;
}

export interface SignatureVerifier {
  readonly keyId: string;
  verify(message: Buffer, signatureBase64: string): boolean;
}

export const keyIdOf = (publicKey: KeyObject): string =>
  createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 16);

export function ed25519Signer(privateKey: KeyObject): Signer {
  const keyId = keyIdOf(createPublicKey(privateKey));
  return { keyId, sign: (message) => sign(null, message, privateKey).toString("base64") };
}

export function ed25519Verifier(publicKeyPem: string): SignatureVerifier {
  const key = createPublicKey(publicKeyPem);
  if (key.asymmetricKeyType !== "ed25519") throw new Error("the audit public key is not an Ed25519 key");
  return { keyId: keyIdOf(key), verify: (message, sig) => verify(null, message, key, Buffer.from(sig, "base64")) };
}

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/** Every public key in a PEM text: the list beside a spool holds one block per key it has used. */
export function ed25519Verifiers(pemText: string): SignatureVerifier[] {
  const blocks = pemText.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error("no PEM public key found");
  return blocks.map(ed25519Verifier);
}

export const publicKeyPath = (keyFile: string): string => keyFile.replace(/(\.pem)?$/, ".pub.pem");

/** Adds a signing key's public half to the spool's public key list, unless it is there already. */
export function rememberPublicKey(listFile: string, publicKey: KeyObject): void {
  const keyId = keyIdOf(publicKey);
  const text = existsSync(listFile) ? readFileSync(listFile, "utf8") : "";
  if (text.includes("-----BEGIN PUBLIC KEY-----") && ed25519Verifiers(text).some((v) => v.keyId === keyId)) return;
  // Appended, never rewritten: checkpoints signed by an earlier key must stay verifiable.
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  appendFileSync(listFile, text === "" || text.endsWith("\n") ? pem : `\n${pem}`, { mode: 0o644 });
}

/** Reads a plaintext signing key file: refused when others can read it or it is not Ed25519. */
export function readKeyFile(keyFile: string): KeyObject {
  const mode = statSync(keyFile).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`audit signing key ${keyFile} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  }
  const privateKey = createPrivateKey(readFileSync(keyFile));
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`audit signing key ${keyFile} is not an Ed25519 key`);
  return privateKey;
}

/** The local signing key, used when no vault is configured: created on first start, 0600. */
export function loadOrCreateKeyFile(keyFile: string): Signer {
  if (!existsSync(keyFile)) {
    const { privateKey } = generateKeyPairSync("ed25519");
    // flag "wx": two processes starting at once must not both create (and one overwrite) a key.
    try {
      writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  const privateKey = readKeyFile(keyFile);
  rememberPublicKey(publicKeyPath(keyFile), createPublicKey(privateKey));
  return ed25519Signer(privateKey);
}
