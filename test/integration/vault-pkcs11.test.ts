/**
 * The PKCS#11 root key against SoftHSM2 (test/vault/setup.sh installs it; test/run.sh runs
 * that). Each run initialises its own token in a temporary SOFTHSM2_CONF, so it never touches
 * the system token store. Missing SoftHSM2 fails these tests: they are never skipped.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as Pkcs11 from "pkcs11js";
import type { AuditRecord } from "../../engine/audit/record.js";
import { listSegments } from "../../engine/audit/spool-files.js";
import { runAuditCommand } from "../../engine/cli/audit-command.js";
import type { RootKeyConfig } from "../../engine/config/types.js";
import { VaultIntegrityError } from "../../engine/vault/envelope.js";
import { KeyRing } from "../../engine/vault/key-ring.js";
import { openPkcs11Modules, openPkcs11Session } from "../../engine/vault/pkcs11-session.js";
import { openRecord, rewrapRecord, sealRecord } from "../../engine/vault/secret-records.js";
import { startCredentialUpstream, type CredentialUpstream } from "../fixtures/credential-upstream.js";
import { allowAll, identityHeaders, REPO_ROOT, MCP_POST_HEADERS, messagesOf, raw, rawSession, startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { seedSecret } from "../support/vault-seed.js";

const LIBS = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"];
const SECRET = "sk_live_" + "51HsmBackedSecretValue0042";
const address = { tenant: "acme", credential: "stripe-prod", version: 1 };

let library: string;
let hsm: RootKeyConfig;
let hsmB: RootKeyConfig;
/** The same token and PIN as `hsm`, with another key label. */
const onToken = (config: RootKeyConfig, keyLabel: string): RootKeyConfig => ({ ...config, keyLabel }) as RootKeyConfig;

beforeAll(() => {
  const found = LIBS.find((f) => existsSync(f));
  if (found === undefined) throw new Error("SoftHSM2 is not installed (libsofthsm2.so not found); run test/vault/setup.sh");
  library = found;
  const dir = mkdtempSync(join(tmpdir(), "sentinel-softhsm-"));
  mkdirSync(join(dir, "tokens"));
  writeFileSync(join(dir, "softhsm2.conf"), `directories.tokendir = ${join(dir, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  // SoftHSM2 reads its config path from the environment when the module initialises.
  process.env.SOFTHSM2_CONF = join(dir, "softhsm2.conf");
  process.env.SENTINEL_TEST_HSM_PIN = "1234";
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", "sentinel-ci", "--pin", "1234", "--so-pin", "5678"], { stdio: "pipe" });
  hsm = { provider: "pkcs11", library, tokenLabel: "sentinel-ci", pinEnv: "SENTINEL_TEST_HSM_PIN" };
  // A second token, with its own PIN, in the same library.
  process.env.SENTINEL_TEST_HSM_PIN_B = "4321";
  execFileSync("softhsm2-util", ["--init-token", "--free", "--label", "sentinel-ci-b", "--pin", "4321", "--so-pin", "8765"], { stdio: "pipe" });
  hsmB = { provider: "pkcs11", library, tokenLabel: "sentinel-ci-b", pinEnv: "SENTINEL_TEST_HSM_PIN_B" };
});

describe("PKCS#11 root key (SoftHSM2)", () => {
  it("creates a non-extractable AES key in the token and round-trips a secret through it", async () => {
    const ring = KeyRing.open({ rootKey: hsm }, tmpdir(), true);
    try {
      expect(ring.active).toEqual({ id: "pkcs11:sentinel-ci/sentinel-root", version: 1 });
      const record = await sealRecord(ring, address, Buffer.from(SECRET), "test");
      expect((await openRecord(ring, record)).toString()).toBe(SECRET);
      const flipped = Buffer.from(record.wrappedKey, "base64");
      flipped[20]! ^= 1;
      await expect(openRecord(ring, { ...record, wrappedKey: flipped.toString("base64") })).rejects.toBeInstanceOf(VaultIntegrityError);
      await expect(openRecord(ring, { ...record, credential: "other" })).rejects.toBeInstanceOf(VaultIntegrityError);
    } finally {
      await ring.close();
    }
    // The key's value cannot be read out of the token.
    const p11 = createRequire(import.meta.url)("pkcs11js") as typeof Pkcs11;
    const lib = new p11.PKCS11();
    lib.load(library);
    lib.C_Initialize({ flags: p11.CKF_OS_LOCKING_OK });
    try {
      const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === "sentinel-ci")!;
      const session = lib.C_OpenSession(slot, p11.CKF_SERIAL_SESSION);
      lib.C_Login(session, p11.CKU_USER, "1234");
      lib.C_FindObjectsInit(session, [{ type: p11.CKA_LABEL, value: "sentinel-root" }]);
      const [key] = lib.C_FindObjects(session, 10);
      lib.C_FindObjectsFinal(session);
      expect(() => lib.C_GetAttributeValue(session, key!, [{ type: p11.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
      const [extractable] = lib.C_GetAttributeValue(session, key!, [{ type: p11.CKA_EXTRACTABLE }]);
      expect(extractable!.value[0]).toBe(0);
    } finally {
      lib.C_Finalize();
    }
  });

  it("a wrong PIN is a clear error", () => {
    process.env.SENTINEL_TEST_HSM_WRONG_PIN = "0000";
    expect(() => KeyRing.open({ rootKey: { ...hsm, pinEnv: "SENTINEL_TEST_HSM_WRONG_PIN" } as RootKeyConfig }, tmpdir(), true)).toThrow(/login to token "sentinel-ci" failed/);
  });

  it("migrates data keys from a key file to the HSM with rewrap, then adds and rewraps to a new HSM key version", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-migrate-"));
    const fileRing = KeyRing.open(undefined, dataDir, true);
    const record = await sealRecord(fileRing, address, Buffer.from(SECRET), "test");
    await fileRing.close();
    const ring = KeyRing.open({ rootKey: hsm, previousRootKey: { provider: "file" } }, dataDir, true);
    try {
      const moved = await rewrapRecord(ring, record);
      expect(moved.rootKey.id).toBe("pkcs11:sentinel-ci/sentinel-root");
      const v2 = await ring.primary.addVersion();
      const again = await rewrapRecord(ring, moved);
      expect(again.rootKey).toEqual(v2);
      expect((await openRecord(ring, again)).toString()).toBe(SECRET);
    } finally {
      await ring.close();
    }
  });
});

describe("several PKCS#11 providers in one process", () => {
  it("root key on one token and previous root key on another: rewrap moves every data key between them, while a third ring on the old token stays usable", async () => {
    const before = openPkcs11Modules();
    const dir = mkdtempSync(join(tmpdir(), "sentinel-two-tokens-"));
    // Another holder of token B in the process (say, a second gateway) is open throughout.
    const other = KeyRing.open({ rootKey: onToken(hsmB, "root-b") }, dir, true);
    let ring: KeyRing | undefined;
    try {
      const record = await sealRecord(other, address, Buffer.from(SECRET), "test");
      expect(record.rootKey).toEqual({ id: "pkcs11:sentinel-ci-b/root-b", version: 1 });
      ring = KeyRing.open({ rootKey: onToken(hsm, "root-a"), previousRootKey: onToken(hsmB, "root-b") }, dir, true);
      // One initialised module for the library, however many tokens and rings use it.
      expect(openPkcs11Modules()).toBe(before + 1);
      const moved = await rewrapRecord(ring, record);
      expect(moved.rootKey).toEqual({ id: "pkcs11:sentinel-ci/root-a", version: 1 });
      expect(moved.ciphertext).toBe(record.ciphertext);
      expect((await openRecord(ring, moved)).toString()).toBe(SECRET);
      expect((await openRecord(other, record)).toString()).toBe(SECRET);
      // Closing one holder of token B must not log the others out of it.
      await other.close();
      expect((await openRecord(ring, record)).toString()).toBe(SECRET);
      expect((await openRecord(ring, moved)).toString()).toBe(SECRET);
    } finally {
      await other.close();
      await ring?.close();
    }
    // The last session closed: the module is finalized, and a fresh start initialises it again.
    expect(openPkcs11Modules()).toBe(before);
    const again = KeyRing.open({ rootKey: onToken(hsm, "root-a") }, dir, false);
    await again.close();
  });

  it("two keys on one token: rewrap from one PKCS#11 key to the other", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sentinel-two-keys-"));
    const old = KeyRing.open({ rootKey: onToken(hsm, "old-root") }, dir, true);
    const record = await sealRecord(old, address, Buffer.from(SECRET), "test");
    await old.close();
    const ring = KeyRing.open({ rootKey: onToken(hsm, "new-root"), previousRootKey: onToken(hsm, "old-root") }, dir, true);
    try {
      const moved = await rewrapRecord(ring, record);
      expect(moved.rootKey.id).toBe("pkcs11:sentinel-ci/new-root");
      expect((await openRecord(ring, moved)).toString()).toBe(SECRET);
      // Both keys' operations run concurrently, on their own sessions, without interleaving.
      const many = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? openRecord(ring, moved) : openRecord(ring, record))));
      expect(many.every((b) => b.toString() === SECRET)).toBe(true);
    } finally {
      await ring.close();
    }
  });

  it("a token already logged in in this process is not opened again with another PIN", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sentinel-pin-"));
    const ring = KeyRing.open({ rootKey: onToken(hsm, "root-a") }, dir, true);
    try {
      process.env.SENTINEL_TEST_HSM_OTHER_PIN = "9999";
      expect(() => KeyRing.open({ rootKey: { ...onToken(hsm, "root-a"), pinEnv: "SENTINEL_TEST_HSM_OTHER_PIN" } as RootKeyConfig }, dir, false)).toThrow(/already logged in in this process with a different PIN/);
      // The refused opener changed nothing for the one already open.
      const record = await sealRecord(ring, address, Buffer.from(SECRET), "test");
      expect((await openRecord(ring, record)).toString()).toBe(SECRET);
    } finally {
      await ring.close();
    }
  });
});

describe("one library entered from several threads", () => {
  it("unwraps on the thread pool for three keys on two tokens while the event loop opens and closes other sessions, without corrupting the library", async () => {
    const rounds = 300;
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "test/fixtures/pkcs11-load.ts")], {
      cwd: REPO_ROOT,
      env: { ...process.env, SENTINEL_LOAD_HSM: JSON.stringify(hsm), SENTINEL_LOAD_HSM_B: JSON.stringify(hsmB), SENTINEL_LOAD_ROUNDS: String(rounds) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    // A corrupted library can also spin forever: a run that takes this long has hung.
    const hung = setTimeout(() => child.kill("SIGKILL"), 40_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once("exit", (c, s) => r([c, s])));
    clearTimeout(hung);
    // Initialised without CKF_OS_LOCKING_OK, SoftHSM2 runs unlocked, and this process dies of
    // SIGSEGV or a heap abort, or hangs.
    expect({ code, signal, err }).toEqual({ code: 0, signal: null, err: "" });
    const result = JSON.parse(out) as { unwrapped: number; churned: number };
    expect(result.unwrapped).toBe(rounds * 6);
    expect(result.churned).toBeGreaterThan(0);
  });

  it("a library some other part of the process initialised, in a mode it cannot know, is only called from the event loop thread", async () => {
    const p11 = createRequire(import.meta.url)("pkcs11js") as typeof Pkcs11;
    const outside = new p11.PKCS11();
    outside.load(library);
    // No arguments: the outside user promises Cryptoki a single thread.
    outside.C_Initialize();
    try {
      const session = openPkcs11Session(library, "sentinel-ci", "1234");
      expect(session.threaded).toBe(false);
      session.close();
      const ring = KeyRing.open({ rootKey: onToken(hsm, "outside-init") }, tmpdir(), true);
      try {
        const records = await Promise.all(Array.from({ length: 10 }, (_, i) => sealRecord(ring, { ...address, version: i + 1 }, Buffer.from(SECRET), "test")));
        const opened = await Promise.all(records.map((r) => openRecord(ring, r)));
        expect(opened.map(String)).toEqual(records.map(() => SECRET));
      } finally {
        await ring.close();
      }
    } finally {
      // The registry did not initialise the library, so it left finalizing to its owner.
      outside.C_Finalize();
    }
  });

  it("an operation asked for once the key is closing is refused, never run on a session being closed", async () => {
    const ring = KeyRing.open({ rootKey: onToken(hsm, "closing") }, tmpdir(), true);
    const closed = ring.close();
    await expect(sealRecord(ring, address, Buffer.from(SECRET), "test")).rejects.toThrow(/pkcs11:sentinel-ci\/closing is closed/);
    await closed;
  });

  it("the registry's own initialisation asks the library for OS locking", () => {
    const session = openPkcs11Session(library, "sentinel-ci", "1234");
    try {
      expect(session.threaded).toBe(true);
    } finally {
      session.close();
    }
  });
});

describe("a gateway whose root key is in the HSM", () => {
  let upstream: CredentialUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startCredentialUpstream({ check: (v) => (v === `Bearer ${SECRET}` ? "hsm" : undefined) });
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-hsm-gw-"));
    await seedSecret(dataDir, "acme", "stripe-prod", SECRET, { rootKey: hsm });
    gw = await startTestGateway(
      {
        credentials: [{ name: "stripe-prod", type: "bearer", connections: ["pay"] }],
        connections: [{ name: "pay", transport: "http", url: upstream.url, credential: "stripe-prod" }],
        policies: allowAll,
      },
      {},
      { dataDir, config: { rootKey: hsm } },
    );
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it("injects the secret whose data key the HSM unwrapped", async () => {
    const sid = await rawSession(gw, "pay");
    const reply = await raw(gw.endpoint("pay"), {
      method: "POST",
      headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "whoami", arguments: {} } }),
    });
    expect(messagesOf(reply)[0]).toMatchObject({ result: { content: [{ text: "hsm" }] } });
  });

  it("a second gateway in the same process on the same token works, and closing it leaves the first one working", async () => {
    const whoami = async (g: TestGateway) => {
      const sid = await rawSession(g, "pay");
      const reply = await raw(g.endpoint("pay"), {
        method: "POST",
        headers: { ...MCP_POST_HEADERS, ...identityHeaders(g.key), "mcp-session-id": sid },
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "whoami", arguments: {} } }),
      });
      return messagesOf(reply)[0];
    };
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-hsm-gw2-"));
    await seedSecret(dataDir, "acme", "stripe-prod", SECRET, { rootKey: hsm });
    const second = await startTestGateway(
      {
        credentials: [{ name: "stripe-prod", type: "bearer", connections: ["pay"] }],
        connections: [{ name: "pay", transport: "http", url: upstream.url, credential: "stripe-prod" }],
        policies: allowAll,
      },
      {},
      { dataDir, config: { rootKey: hsm } },
    );
    try {
      expect(await whoami(second)).toMatchObject({ result: { content: [{ text: "hsm" }] } });
    } finally {
      await second.close();
    }
    // The first gateway's HSM session is still logged in: it unwraps its data keys again.
    await expect(gw.gateway.vault!.verify()).resolves.toBeUndefined();
    expect(await whoami(gw)).toMatchObject({ result: { content: [{ text: "hsm" }] } });
  });
});

describe("the audit signing key of a gateway whose root key is in the HSM", () => {
  const tenant = { connections: [{ name: "rec", transport: "http" as const, url: "http://127.0.0.1:9/mcp" }], policies: allowAll };
  const start = (dataDir: string, rootKey: RootKeyConfig) => startTestGateway(tenant, {}, { dataDir, config: { rootKey } }, { dir: join(dataDir, "audit"), checkpoint: { intervalMs: 50 } });

  it("is wrapped and unwrapped by the HSM, and its checkpoints verify", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-hsm-audit-"));
    // Two runs: the first creates and wraps the key, the second has the HSM unwrap it.
    for (let run = 0; run < 2; run++) {
      const gw = await start(dataDir, hsm);
      await rawSession(gw, "rec").catch(() => undefined); // the upstream is down: a refusal, recorded all the same
      await gw.close();
    }
    const wrapped = readFileSync(join(dataDir, "audit", "signing-key.wrapped.json"), "utf8");
    expect(wrapped).not.toMatch(/PRIVATE KEY/);
    expect(JSON.parse(wrapped)).toMatchObject({ rootKey: { id: "pkcs11:sentinel-ci/sentinel-root" } });
    expect(existsSync(join(dataDir, "audit", "signing-key.pem"))).toBe(false);

    const records = listSegments(join(dataDir, "audit")).flatMap((s) => readFileSync(s.path, "utf8").trim().split("\n").map((l) => JSON.parse(l) as AuditRecord));
    const checkpoints = records.filter((r) => r.kind === "checkpoint");
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    expect(new Set(checkpoints.map((r) => r.checkpoint!.keyId))).toEqual(new Set([JSON.parse(wrapped).keyId]));
    let out = "";
    expect(await runAuditCommand(["verify", "--data-dir", dataDir, "--dir", join(dataDir, "audit"), "--require-signed"], (s) => (out += s))).toBe(0);
    expect(out).toContain("OK: chain and signatures verified");
  });

  it("cannot be unwrapped by another key on the token: start-up names both", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-hsm-audit-"));
    await (await start(dataDir, hsm)).close();
    await expect(start(dataDir, { ...hsm, keyLabel: "another-root" } as RootKeyConfig)).rejects.toThrow(
      /cannot unwrap the audit signing key .*wrapped by root key pkcs11:sentinel-ci\/sentinel-root#\d+, but the configured root key is pkcs11:sentinel-ci\/another-root#1/,
    );
  });
});
