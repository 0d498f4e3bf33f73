/**
 * The PKCS#11 root key against SoftHSM2 (test/vault/setup.sh installs it; test/run.sh runs
 * that). Each run initialises its own token in a temporary SOFTHSM2_CONF, so it never touches
 * the system token store. Missing SoftHSM2 fails these tests: they are never skipped.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as Pkcs11 from "pkcs11js";
import type { RootKeyConfig } from "../../engine/config/types.js";
import { VaultIntegrityError } from "../../engine/vault/envelope.js";
import { KeyRing } from "../../engine/vault/key-ring.js";
import { openRecord, rewrapRecord, sealRecord } from "../../engine/vault/secret-records.js";
import { startCredentialUpstream, type CredentialUpstream } from "../fixtures/credential-upstream.js";
import { allowAll, identityHeaders, MCP_POST_HEADERS, messagesOf, raw, rawSession, startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { seedSecret } from "../support/vault-seed.js";

const LIBS = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"];
const SECRET = "sk_live_" + "51HsmBackedSecretValue0042";
const address = { tenant: "acme", credential: "stripe-prod", version: 1 };

let library: string;
let hsm: RootKeyConfig;

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
    lib.C_Initialize();
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
});
