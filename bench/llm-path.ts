/**
 * What the LLM path adds to a call: the same chat completion sent straight to the local
 * OpenAI-compatible server and through the gateway (policy on model and endpoint, Content Guard
 * on the prompt, Token Guard counting with the model's tokenizer, the output cap written into
 * the request, a token limit with settlement, the vault's key injected, audit), one call at a
 * time, so the difference of the two latency distributions is the gateway's own time.
 *
 *   node --import tsx bench/llm-path.ts [--calls 2000] [--no-audit]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { request } from "undici";
import { startOpenAiServer } from "../test/fixtures/openai-server.js";
import { startTestGateway } from "../test/support/gateway-harness.js";
import { seedSecret } from "../test/support/vault-seed.js";

const { values } = parseArgs({ options: { calls: { type: "string", default: "2000" }, "no-audit": { type: "boolean", default: false } } });
const CALLS = Number(values.calls);
const KEY = "sk-bench-provider-key";

const body = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [
    { role: "system", content: "You are a helpful assistant for the Acme support team." },
    { role: "user", content: "Customer 4411 asks where order A-2291 is; it shipped on Monday from the Leeds warehouse." },
  ],
});

async function measure(url: string, headers: Record<string, string>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < CALLS + 200; i++) {
    const t0 = performance.now();
    const res = await request(url, { method: "POST", headers, body });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
    if (i >= 200) times.push((performance.now() - t0) * 1000);
  }
  return times.sort((a, b) => a - b);
}

const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

const provider = await startOpenAiServer(KEY);
const dataDir = mkdtempSync(join(tmpdir(), "sentinel-llm-bench-"));
await seedSecret(dataDir, "acme", "openai-key", KEY);
const gw = await startTestGateway(
  {
    credentials: [{ name: "openai-key", type: "bearer", connections: ["openai"] }],
    connections: [{ name: "openai", transport: "llm", url: provider.url, credential: "openai-key" }],
    policies: [
      { id: "models", target: "llm.model", pattern: "gpt-4o*", action: "allow" },
      { id: "chat", target: "llm.endpoint", pattern: "chat.completions", action: "allow" },
    ],
    guard: { builtins: ["*"] },
    tokenCaps: { input: 8000, output: 256 },
    limits: [{ id: "tokens", scope: "tenant", metric: "tokens", window: "minute", max: 1e12 }],
    prices: { models: [{ pattern: "gpt-4o-mini", inputPerMillion: 0.15, outputPerMillion: 0.6 }] },
  },
  {},
  { dataDir },
  values["no-audit"] ? { enabled: false } : undefined,
);
try {
  const json = { "content-type": "application/json" };
  const direct = await measure(`${provider.url}/chat/completions`, { ...json, authorization: `Bearer ${KEY}` });
  const through = await measure(`${gw.url}/llm/openai/v1/chat/completions`, { ...json, authorization: `Bearer ${gw.key}` });
  const rows = [
    ["direct to the provider", direct],
    ["through the gateway", through],
  ] as const;
  process.stdout.write(`| ${CALLS} sequential chat calls | p50 (µs) | p90 (µs) | p99 (µs) |\n|---|---:|---:|---:|\n`);
  for (const [name, t] of rows) process.stdout.write(`| ${name} | ${q(t, 0.5).toFixed(0)} | ${q(t, 0.9).toFixed(0)} | ${q(t, 0.99).toFixed(0)} |\n`);
  process.stdout.write(`| added by the gateway | ${(q(through, 0.5) - q(direct, 0.5)).toFixed(0)} | ${(q(through, 0.9) - q(direct, 0.9)).toFixed(0)} | ${(q(through, 0.99) - q(direct, 0.99)).toFixed(0)} |\n`);
} finally {
  await gw.close();
  await provider.close();
}
