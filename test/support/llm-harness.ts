/**
 * A gateway with an `llm` connection in front of the local OpenAI-compatible server
 * (test/fixtures/openai-server.ts), the provider key sealed in the vault, and every audit record
 * collected as it is sealed.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditRecord } from "../../engine/audit/record.js";
import type { LlmConnectionConfig, TenantConfig } from "../../engine/config/types.js";
import { startOpenAiServer, type OpenAiServer } from "../fixtures/openai-server.js";
import { raw, startTestGateway, type RawReply, type TestGateway } from "./gateway-harness.js";
import { seedSecret } from "./vault-seed.js";

/** The provider key the fake server accepts; only the vault knows it. */
export const PROVIDER_KEY = "sk-proj-" + "T3stPr0v1derK3yXq9LmN2bV7cZ4";

export interface LlmSetup {
  readonly gw: TestGateway;
  readonly provider: OpenAiServer;
  readonly records: AuditRecord[];
  /** `/llm/openai/v1/<path>` on the gateway. */
  url(path: string, connection?: string): string;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<RawReply>;
  close(): Promise<void>;
}

export async function startLlmGateway(
  tenant: Omit<TenantConfig, "id" | "apiKeys" | "connections" | "credentials">,
  connection: Partial<LlmConnectionConfig> = {},
  /** The scopes the provider key's credential grants. */
  scopes: string[] = ["llm:*"],
): Promise<LlmSetup> {
  const provider = await startOpenAiServer(PROVIDER_KEY);
  const dataDir = mkdtempSync(join(tmpdir(), "sentinel-llm-"));
  await seedSecret(dataDir, "acme", "openai-key", PROVIDER_KEY);
  const gw = await startTestGateway(
    {
      ...tenant,
      credentials: [{ name: "openai-key", type: "bearer", connections: ["openai"], scopes }],
      connections: [{ name: "openai", transport: "llm", url: provider.url, credential: "openai-key", ...connection }],
    },
    {},
    { dataDir },
  );
  const records: AuditRecord[] = [];
  gw.gateway.audit?.decisions.subscribe({}, (r) => records.push(r));
  const url = (path: string, name = "openai") => `${gw.url}/llm/${name}/v1/${path}`;
  return {
    gw,
    provider,
    records,
    url,
    post: (path, body, headers = {}) =>
      raw(url(path), {
        method: "POST",
        headers: { authorization: `Bearer ${gw.key}`, "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    close: async () => {
      await gw.close();
      await provider.close();
    },
  };
}

/** The audit record of a call, by the trace id the gateway answered with (records are sealed on the next turn). */
export async function recordOf(setup: LlmSetup, traceId: string | null): Promise<AuditRecord> {
  for (let i = 0; i < 100; i++) {
    const found = setup.records.find((r) => r.id === traceId);
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no audit record for trace ${traceId}`);
}

/** The `data:` payloads of an SSE body, JSON-parsed where they are JSON. */
export function sseData(text: string): unknown[] {
  return text
    .split(/\n\n/)
    .map((event) => event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n"))
    .filter((d) => d !== "")
    .map((d) => {
      try {
        return JSON.parse(d) as unknown;
      } catch {
        return d;
      }
    });
}
