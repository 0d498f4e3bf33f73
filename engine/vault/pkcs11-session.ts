/**
 * PKCS#11 modules and token logins shared by every provider in the process.
 *
 * Cryptoki is process-wide state: C_Initialize may run once per library in a process (again is
 * CKR_CRYPTOKI_ALREADY_INITIALIZED) and C_Finalize ends the library for every user of it; a
 * login, and a logout, apply to every session the process has with that token. So two
 * providers in one process (a root key and the previous one both in HSMs, or two gateways in
 * one test process) share one initialised module per library path, finalized when the last
 * session on it closes, and one login per token, logged out when the last session on that
 * token closes. Each provider gets its own session, so one provider's multi-step operation
 * (C_EncryptInit, then C_Encrypt) never interleaves with another's.
 *
 * Wrapping runs on libuv's thread pool (the binding's async calls) while the event loop goes on
 * opening sessions and starting other operations, so the library is entered from several
 * threads at once. Cryptoki allows that only when C_Initialize was told the application is
 * multi-threaded: with no arguments a library may skip its own locking (SoftHSM2 does, and then
 * corrupts its heap under concurrent calls). The registry asks for CKF_OS_LOCKING_OK; a library
 * that cannot lock (CKR_CANT_LOCK) or takes no arguments (CKR_ARGUMENTS_BAD), or one initialised
 * by someone else in whatever mode they chose, is called from the event loop thread only
 * (`threaded: false`).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import type * as Pkcs11Module from "pkcs11js";
import { RootKeyError } from "./key-provider.js";

export type Pkcs11 = typeof Pkcs11Module;

export interface Pkcs11Session {
  readonly p11: Pkcs11;
  readonly lib: Pkcs11Module.PKCS11;
  readonly handle: Buffer;
  /** True when the library may be called from other threads (the binding's async calls). */
  readonly threaded: boolean;
  /** Closes this session; the last one on a token logs it out, the last one on a module finalizes it. */
  close(): void;
}

interface Token {
  /** Sessions open on the token through this registry. */
  sessions: number;
  /** Compared, never stored in clear: a login is shared, so a second opener must know the PIN too. */
  readonly pinDigest: Buffer;
}

interface Module {
  readonly p11: Pkcs11;
  readonly lib: Pkcs11Module.PKCS11;
  readonly tokens: Map<string, Token>;
  /** False when something else in the process had initialised the library: it finalizes it, not us. */
  readonly ownsInit: boolean;
  /** Initialised with CKF_OS_LOCKING_OK, so concurrent calls from several threads are safe. */
  readonly threaded: boolean;
}

const modules = new Map<string, Module>();

/** Libraries initialised through the registry and still in use (for tests and diagnostics). */
export function openPkcs11Modules(): number {
  return modules.size;
}

/** Opens a read-write session on the token labelled `tokenLabel`, logged in as the user. */
export function openPkcs11Session(library: string, tokenLabel: string, pin: string): Pkcs11Session {
  const key = canonicalPath(library);
  const mod = modules.get(key) ?? initialise(library, key);
  const { p11, lib, threaded } = mod;
  const pinDigest = createHash("sha256").update(pin).digest();
  let session: Buffer | undefined;
  try {
    const known = mod.tokens.get(tokenLabel);
    if (known !== undefined && !timingSafeEqual(known.pinDigest, pinDigest)) {
      throw new RootKeyError(`PKCS#11 token "${tokenLabel}" is already logged in in this process with a different PIN`);
    }
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === tokenLabel);
    if (slot === undefined) throw new RootKeyError(`no PKCS#11 token labelled "${tokenLabel}" in ${library}`);
    session = lib.C_OpenSession(slot, p11.CKF_SERIAL_SESSION | p11.CKF_RW_SESSION);
    if (known === undefined) {
      try {
        lib.C_Login(session, p11.CKU_USER, pin);
      } catch (err) {
        // Logged in by something outside this registry: the PIN was not checked, so refuse.
        const code = (err as { code?: number }).code;
        const why = code === p11.CKR_USER_ALREADY_LOGGED_IN ? "it is already logged in by another user of the library in this process" : (err as Error).message;
        throw new RootKeyError(`PKCS#11 login to token "${tokenLabel}" failed: ${why}`);
      }
      mod.tokens.set(tokenLabel, { sessions: 0, pinDigest });
    }
  } catch (err) {
    if (session !== undefined) lib.C_CloseSession(session);
    releaseModule(key, mod);
    throw err;
  }
  const token = mod.tokens.get(tokenLabel)!;
  token.sessions++;
  const handle = session;
  let closed = false;
  return {
    p11,
    lib,
    handle,
    threaded,
    close() {
      if (closed) return;
      closed = true;
      try {
        if (--token.sessions === 0) {
          mod.tokens.delete(tokenLabel);
          // Logging out ends the login for every session on the token: only the last one may.
          try {
            lib.C_Logout(handle);
          } catch {
            // Already logged out (the token was removed); closing is all that is left.
          }
        }
        lib.C_CloseSession(handle);
      } finally {
        releaseModule(key, mod);
      }
    },
  };
}

/**
 * Loaded libraries, kept for the life of the process even after C_Finalize. Dropping the
 * binding's object would let the garbage collector dlclose the library at some later moment,
 * unloading code (SoftHSM2 and what it linked) that exit handlers or a re-initialisation may
 * still reach; loading once and only initialising and finalizing keeps the library mapped.
 */
const libraries = new Map<string, { readonly p11: Pkcs11; readonly lib: Pkcs11Module.PKCS11 }>();

function initialise(library: string, key: string): Module {
  const { p11, lib } = libraries.get(key) ?? load(library, key);
  const refused = (err: unknown) => new RootKeyError(`cannot initialise PKCS#11 module ${library}: ${(err as Error).message}`);
  const code = (err: unknown) => (err as { code?: number }).code;
  let ownsInit = true;
  let threaded = true;
  try {
    lib.C_Initialize({ flags: p11.CKF_OS_LOCKING_OK });
  } catch (err) {
    if (code(err) === p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      ownsInit = false;
      threaded = false;
    } else if (code(err) === p11.CKR_CANT_LOCK || code(err) === p11.CKR_ARGUMENTS_BAD) {
      // CKR_ARGUMENTS_BAD: a library that takes no initialisation arguments at all.
      threaded = false;
      try {
        lib.C_Initialize();
      } catch (again) {
        throw refused(again);
      }
    } else {
      throw refused(err);
    }
  }
  const mod: Module = { p11, lib, tokens: new Map(), ownsInit, threaded };
  modules.set(key, mod);
  return mod;
}

function load(library: string, key: string): { readonly p11: Pkcs11; readonly lib: Pkcs11Module.PKCS11 } {
  if (libraries.size === 0) process.once("exit", finalizeAll);
  const p11 = loadBinding();
  const lib = new p11.PKCS11();
  try {
    lib.load(library);
  } catch (err) {
    throw new RootKeyError(`cannot load PKCS#11 module ${library}: ${(err as Error).message}`);
  }
  const loaded = { p11, lib };
  libraries.set(key, loaded);
  return loaded;
}

/**
 * At exit, finalizes what is still initialised (a process that ends without closing its
 * vault). Left initialised, SoftHSM2's own static destructors run during the C library's exit
 * handlers, after OpenSSL's cleanup, and can crash the exiting process (SoftHSMv2 #635,
 * openssl#22508); finalizing first leaves them nothing to tear down.
 */
function finalizeAll(): void {
  for (const [key, mod] of modules) {
    modules.delete(key);
    if (!mod.ownsInit) continue;
    try {
      mod.lib.C_Finalize();
    } catch {
      // Exiting anyway.
    }
  }
}

/** Finalizes a module no token uses any more. */
function releaseModule(key: string, mod: Module): void {
  if (mod.tokens.size > 0 || modules.get(key) !== mod) return;
  modules.delete(key);
  if (mod.ownsInit) mod.lib.C_Finalize();
}

/** One entry per library file, however its path is spelled (symlinks, `..`). */
function canonicalPath(library: string): string {
  try {
    return realpathSync(library);
  } catch {
    return library;
  }
}

/** pkcs11js is a native addon; it is loaded only when a PKCS#11 root key is configured. */
function loadBinding(): Pkcs11 {
  try {
    return createRequire(import.meta.url)("pkcs11js") as Pkcs11;
  } catch (err) {
    throw new RootKeyError(`the PKCS#11 binding (npm package pkcs11js) did not load: ${(err as Error).message}; run deploy/local/ensure-deps.sh`);
  }
}
