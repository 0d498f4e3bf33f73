/** Stores secrets in a data dir's vault the way `sentinel vault put` does, for tests. */
import { join, resolve } from "node:path";
import type { StdioConnectionConfig, VaultConfig } from "../../engine/config/types.js";
import { KeyRing } from "../../engine/vault/key-ring.js";
import type { SecretRecord } from "../../engine/vault/secret-records.js";
import { storeVersion } from "../../engine/vault/vault-file.js";
import { REPO_ROOT } from "./gateway-harness.js";

export async function seedSecret(dataDir: string, tenant: string, credential: string, secret: string, config?: VaultConfig): Promise<SecretRecord> {
  const ring = KeyRing.open(config, dataDir, true);
  try {
    return await storeVersion(ring, join(dataDir, config?.file ?? "vault.json"), tenant, credential, secret, "test");
  } finally {
    await ring.close();
  }
}

/**
 * The credential-checking stdio server (test/fixtures/credential-stdio-server.ts) as connection
 * "tools" using credential "tool-token", accepting the tokens listed in `acceptedFile`.
 */
export const credentialStdio = (acceptedFile: string): StdioConnectionConfig => ({
  name: "tools",
  transport: "stdio",
  command: process.execPath,
  args: ["--import", "tsx", resolve(REPO_ROOT, "test/fixtures/credential-stdio-server.ts")],
  cwd: REPO_ROOT,
  env: { ACCEPTED_TOKENS_FILE: acceptedFile },
  credential: "tool-token",
});
