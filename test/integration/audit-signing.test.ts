// The checkpoint signing key of a real gateway with a vault: wrapped by the vault's file root
// key, unwrapped again on restart, moved by `sentinel vault rewrap`, migrated from a plaintext
// key file, and refused (with the key ids named) under a different root key. `sentinel audit
// verify` needs only the public keys beside the spool throughout.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditRecord } from "../../engine/audit/record.js";
import { listSegments } from "../../engine/audit/spool-files.js";
import type { SentinelConfig, TenantConfig } from "../../engine/config/types.js";
import { runAuditCommand } from "../../engine/cli/audit-command.js";
import { runVaultCli } from "../../engine/cli/vault-cli.js";
import { keyCheckValue } from "../../engine/vault/key-provider.js";
import { tempDir } from "../support/audit-fixtures.js";
import { allowAll, identityHeaders, MCP_POST_HEADERS, raw, rawSession, startRecordingHttp, startTestGateway, type ChildServer } from "../support/gateway-harness.js";

let upstream: ChildServer;
beforeAll(async () => {
  upstream = await startRecordingHttp(join(tempDir(), "upstream.jsonl"));
});
afterAll(() => upstream?.stop());

const tenant = (): Omit<TenantConfig, "apiKeys" | "id"> => ({ connections: [{ name: "rec", transport: "http", url: upstream.url }], policies: allowAll });
const fileVault = { rootKey: { provider: "file" as const } };

/** A gateway on `dataDir` (vault or not) spooling to `<dataDir>/audit`; makes two calls and closes. */
async function runGateway(dataDir: string, vault: SentinelConfig["vault"]): Promise<void> {
  const gw = await startTestGateway(tenant(), {}, { dataDir, config: vault }, { dir: join(dataDir, "audit"), checkpoint: { intervalMs: 50 } });
  try {
    const sid = await rawSession(gw, "rec");
    for (const id of [1, 2]) {
      const reply = await raw(gw.endpoint("rec"), {
        method: "POST",
        headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid },
        body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { id } } }),
      });
      expect(reply.status).toBe(200);
    }
  } finally {
    await gw.close();
  }
}

async function verify(dataDir: string): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await runAuditCommand(["verify", "--data-dir", dataDir, "--dir", join(dataDir, "audit"), "--require-signed"], (s) => (out += s));
  return { code, out };
}

const checkpointKeys = (dataDir: string): string[] => [
  ...new Set(
    listSegments(join(dataDir, "audit"))
      .flatMap((s) => readFileSync(s.path, "utf8").trim().split("\n").map((l) => JSON.parse(l) as AuditRecord))
      .filter((r) => r.kind === "checkpoint")
      .map((r) => r.checkpoint!.keyId),
  ),
];

const wrappedFile = (dataDir: string) => join(dataDir, "audit", "signing-key.wrapped.json");
const plainFile = (dataDir: string) => join(dataDir, "audit", "signing-key.pem");

describe("a gateway with a vault root key file", () => {
  it("signs checkpoints with a wrapped key: no plaintext key on disk, and verify passes across restarts and a root key rewrap", async () => {
    const dataDir = tempDir();
    await runGateway(dataDir, fileVault);
    expect(existsSync(plainFile(dataDir))).toBe(false);
    const wrapped = readFileSync(wrappedFile(dataDir), "utf8");
    expect(wrapped).not.toMatch(/PRIVATE KEY/);
    expect(JSON.parse(wrapped)).toMatchObject({ alg: "Ed25519", rootKey: { id: expect.stringMatching(/^file:/), version: 1 } });

    // The second start unwraps the same key through the vault's root key.
    await runGateway(dataDir, fileVault);
    const [keyId, ...others] = checkpointKeys(dataDir);
    expect(others).toEqual([]);
    expect(JSON.parse(wrapped).keyId).toBe(keyId);

    // A new root key version, every key re-wrapped under it, the old one retired: the signing key moves too.
    const config = join(dataDir, "sentinel.yaml");
    writeFileSync(config, JSON.stringify({ version: 1, server: { host: "127.0.0.1", port: 0 }, vault: fileVault, audit: { dir: join(dataDir, "audit") }, tenants: [] }));
    const lines: string[] = [];
    const options = { dataDir, config, tenant: undefined, credential: undefined, secretFile: undefined, newRootKey: true, retireOld: true };
    expect(await runVaultCli("rewrap", options, (l) => lines.push(l))).toBe(0);
    expect(lines.join("\n")).toMatch(/audit signing key .*signing-key.pem is wrapped by root key file:[0-9a-f]+#2/);
    expect(lines.join("\n")).toMatch(/retired root key versions file:[0-9a-f]+#1/);
    expect(JSON.parse(readFileSync(wrappedFile(dataDir), "utf8"))).toMatchObject({ keyId, rootKey: { version: 2 } });
    await runGateway(dataDir, fileVault);
    expect(checkpointKeys(dataDir)).toEqual([keyId]);

    const report = await verify(dataDir);
    expect(report.out).toMatch(/OK: chain and signatures verified/);
    expect(report.code).toBe(0);
  });

  it("refuses to start under a different root key, naming the key that wrapped the signing key", async () => {
    const dataDir = tempDir();
    await runGateway(dataDir, fileVault);
    const before = JSON.parse(readFileSync(wrappedFile(dataDir), "utf8")) as { rootKey: { id: string } };
    const other = randomBytes(32);
    const id = `file:${keyCheckValue(other)}`;
    rmSync(join(dataDir, "vault-root.key"));
    writeFileSync(join(dataDir, "vault-root.key"), JSON.stringify({ format: 1, keys: [{ version: 1, id, createdAt: new Date().toISOString(), key: other.toString("base64") }] }), { mode: 0o600 });
    const start = startTestGateway(tenant(), {}, { dataDir, config: fileVault }, { dir: join(dataDir, "audit") });
    await expect(start).rejects.toThrow(new RegExp(`cannot unwrap the audit signing key .*wrapped by root key ${before.rootKey.id}#1.*configured root key is ${id}#1`));
  });

  it("wraps the plaintext key of a gateway that ran without a vault, keeping its key id so earlier checkpoints verify", async () => {
    const dataDir = tempDir();
    await runGateway(dataDir, undefined);
    expect(existsSync(plainFile(dataDir))).toBe(true);
    const [plainKeyId] = checkpointKeys(dataDir);
    await runGateway(dataDir, fileVault);
    expect(existsSync(plainFile(dataDir))).toBe(false);
    expect(JSON.parse(readFileSync(wrappedFile(dataDir), "utf8")).keyId).toBe(plainKeyId);
    expect(checkpointKeys(dataDir)).toEqual([plainKeyId]);
    expect((await verify(dataDir)).code).toBe(0);
  });
});
