/**
 * Checkpoint signing. `Signer` is the seam the vault's KeyProvider plugs into later; until then
 * `loadOrCreateKeyFile` keeps an Ed25519 key in the audit directory, created on first start with
 * mode 0600 (and refused if anyone else can read it). The public key sits next to it for
 * verifiers, and the key id (first 16 hex of SHA-256 over the DER public key) names the key in
 * every checkpoint, so a rotated key is recognisable.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";

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

export const publicKeyPath = (keyFile: string): string => keyFile.replace(/(\.pem)?$/, ".pub.pem");

/** The local signing key: created on first start, 0600, never readable by group or others. */
export function loadOrCreateKeyFile(keyFile: string): Signer {
  if (!existsSync(keyFile)) {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    // flag "wx": two processes starting at once must not both create (and one overwrite) a key.
    try {
      writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
      writeFileSync(publicKeyPath(keyFile), publicKey.export({ type: "spki", format: "pem" }), { mode: 0o644 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  const mode = statSync(keyFile).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`audit signing key ${keyFile} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  }
  const privateKey = createPrivateKey(readFileSync(keyFile));
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`audit signing key ${keyFile} is not an Ed25519 key`);
  if (!existsSync(publicKeyPath(keyFile))) {
    writeFileSync(publicKeyPath(keyFile), createPublicKey(privateKey).export({ type: "spki", format: "pem" }), { mode: 0o644 });
  }
  return ed25519Signer(privateKey);
}
