/**
 * Rotation under concurrent load through the real gateway. A new version is pushed with the
 * CLI (`sentinel vault rotate`, another process) while clients keep calling; the upstream
 * accepts the old secret only until the gateway reports the switch, so a call sent with the old
 * version after the switch would fail. Zero failed calls, and the drain time is measured.
 */
import { execFile } from "node:child_process";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import type { ConnectionConfig, CredentialConfig } from "../../engine/config/types.js";
import { VAULT_EVENTS_CHANNEL, type VaultEvent } from "../../engine/vault/vault-events.js";
import { startCredentialUpstream, type CredentialUpstream } from "../fixtures/credential-upstream.js";
import { allowAll, identityHeaders, MCP_POST_HEADERS, messagesOf, raw, rawSession, REPO_ROOT, startTestGateway, type TestGateway } from "../support/gateway-harness.js";
import { credentialStdio, seedSecret } from "../support/vault-seed.js";

const run = promisify(execFile);
const V1 = "rot-v1-" + "Qm3Xc8Lp2Zr7";
const V2 = "rot-v2-" + "Wd5Jh1Ns6Tb9";

/** Writes the CLI's view of the config (it needs the credential's type) and rotates with it. */
async function cliRotate(dataDir: string, credential: CredentialConfig, connection: ConnectionConfig, secret: string): Promise<string> {
  const config = join(dataDir, "cli.yaml");
  writeFileSync(config, stringify({ version: 1, tenants: [{ id: "acme", credentials: [credential], connections: [connection] }] }));
  const secretFile = join(dataDir, "new-secret");
  writeFileSync(secretFile, secret + "\n", { mode: 0o600 });
  const { stdout } = await run(process.execPath, ["--import", "tsx", "engine/cli/main.ts", "vault", "rotate", "--data-dir", dataDir, "--config", config, "--tenant", "acme", "--credential", credential.name, "--secret-file", secretFile], { cwd: REPO_ROOT });
  return stdout;
}

interface LoadResult {
  ok: number;
  failed: string[];
  /** Each call's start (performance.now()) and duration in ms. */
  timings: Array<{ at: number; ms: number }>;
}

/** The slowest call that started within a second of the switch: what a rotation costs a caller. */
const slowestAround = (r: LoadResult, switchedAt: number) =>
  Math.max(...r.timings.filter((t) => t.at + t.ms >= switchedAt && t.at <= switchedAt + 1_000).map((t) => t.ms));

/** `clients` sessions, each calling `tool` back to back until `until()` says stop. */
async function load(gw: TestGateway, connection: string, clients: number, tool: string, args: Record<string, unknown>, until: () => boolean): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, failed: [], timings: [] };
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const sid = await rawSession(gw, connection);
      for (let id = 1; !until(); id++) {
        const at = performance.now();
        const reply = await raw(gw.endpoint(connection), {
          method: "POST",
          headers: { ...MCP_POST_HEADERS, ...identityHeaders(gw.key), "mcp-session-id": sid },
          body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: tool, arguments: args } }),
        });
        result.timings.push({ at, ms: performance.now() - at });
        const m = reply.status === 200 ? messagesOf(reply).at(-1) : undefined;
        if (m !== undefined && "result" in m && (m.result as { isError?: boolean }).isError !== true) result.ok++;
        else result.failed.push(`${reply.status} ${reply.text.slice(0, 200)}`);
      }
    }),
  );
  return result;
}

function rotations(): { events: VaultEvent[]; stop(): void } {
  const events: VaultEvent[] = [];
  const listener = (e: unknown) => events.push(e as VaultEvent);
  subscribe(VAULT_EVENTS_CHANNEL, listener);
  return { events, stop: () => unsubscribe(VAULT_EVENTS_CHANNEL, listener) };
}

describe("credential rotation under load", () => {
  let gw: TestGateway | undefined;
  let upstream: CredentialUpstream | undefined;
  afterEach(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it("HTTP: 8 clients keep calling through a CLI rotation; zero failed calls, and after the switch only the new secret is used", async () => {
    const accepted = new Map([[`Bearer ${V1}`, "v1"], [`Bearer ${V2}`, "v2"]]);
    upstream = await startCredentialUpstream({ check: (v) => (v === undefined ? undefined : accepted.get(v)) });
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-rotate-"));
    await seedSecret(dataDir, "acme", "api", V1);
    const credential: CredentialConfig = { name: "api", type: "bearer", connections: ["svc"] };
    const connection: ConnectionConfig = { name: "svc", transport: "http", url: upstream.url, credential: "api" };
    gw = await startTestGateway({ credentials: [credential], connections: [connection], policies: allowAll }, {}, { dataDir, config: { drainTimeoutMs: 2_000 } });

    const seen = rotations();
    let switchedAt = Infinity;
    const listener = (e: unknown) => {
      if ((e as VaultEvent).type !== "rotated") return;
      switchedAt = performance.now();
      // From the switch on the old secret is revoked: any call still sent with it fails.
      accepted.delete(`Bearer ${V1}`);
    };
    subscribe(VAULT_EVENTS_CHANNEL, listener);
    const started = Date.now();
    // Load runs until a second after the switch (the CLI is a separate Node process and may take
    // seconds to start on a loaded machine), bounded at 30 s.
    const done = () => performance.now() - switchedAt > 1_000 || Date.now() - started > 30_000;
    try {
      const loaded = load(gw, "svc", 8, "sleep", { ms: 25 }, done);
      await new Promise((r) => setTimeout(r, 1_000));
      const cli = await cliRotate(dataDir, credential, connection, V2);
      expect(cli).toContain("stored acme/api v2");
      expect(cli).not.toContain(V2);
      const result = await loaded;

      const rotated = seen.events.find((e) => e.type === "rotated");
      expect(rotated).toMatchObject({ from: 1, to: 2, forced: false });
      expect(result.failed).toEqual([]);
      expect(upstream.refused).toBe(0);
      const late = upstream.calls.filter((c) => c.at > switchedAt);
      expect(late.length).toBeGreaterThan(0);
      expect(late.every((c) => c.label === "v2")).toBe(true);
      const r = rotated as Extract<VaultEvent, { type: "rotated" }>;
      console.log(
        `HTTP rotation under load: ${result.ok} calls, 0 failed; drain ${r.drainMs.toFixed(1)} ms with ${r.inFlightAtStart} calls in flight, ` +
          `${r.held} calls held (longest ${r.maxHoldMs.toFixed(1)} ms); slowest call around the switch ${slowestAround(result, switchedAt).toFixed(1)} ms`,
      );
      expect(r.drainMs).toBeLessThan(2_000);
    } finally {
      seen.stop();
      unsubscribe(VAULT_EVENTS_CHANNEL, listener);
    }
  });

  it("stdio: children restart with the new environment once drained; zero failed calls", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-rotate-"));
    const acceptedFile = join(dataDir, "accepted.json");
    writeFileSync(acceptedFile, JSON.stringify({ [V1]: "v1", [V2]: "v2" }));
    await seedSecret(dataDir, "acme", "tool-token", V1);
    const credential: CredentialConfig = { name: "tool-token", type: "bearer", envVar: "API_TOKEN", connections: ["tools"] };
    const connection = credentialStdio(acceptedFile);
    gw = await startTestGateway({ credentials: [credential], connections: [connection], policies: allowAll }, {}, { dataDir, config: { drainTimeoutMs: 3_000 } });

    const seen = rotations();
    const listener = (e: unknown) => {
      // The old token stops working at the switch: a child still running with it would fail.
      if ((e as VaultEvent).type === "rotated") writeFileSync(acceptedFile, JSON.stringify({ [V2]: "v2" }));
    };
    let switchedAt = Infinity;
    subscribe(VAULT_EVENTS_CHANNEL, (e: unknown) => {
      if ((e as VaultEvent).type === "rotated") switchedAt = performance.now();
    });
    subscribe(VAULT_EVENTS_CHANNEL, listener);
    const started = Date.now();
    try {
      const loaded = load(gw, "tools", 4, "sleep", { ms: 25 }, () => performance.now() - switchedAt > 2_000 || Date.now() - started > 30_000);
      await new Promise((r) => setTimeout(r, 2_500));
      await cliRotate(dataDir, credential, connection, V2);
      const result = await loaded;
      const rotated = seen.events.find((e) => e.type === "rotated") as Extract<VaultEvent, { type: "rotated" }> | undefined;
      expect(rotated).toMatchObject({ from: 1, to: 2, forced: false });
      expect(result.failed).toEqual([]);
      // For stdio the calls after the switch also wait for their session's child to restart.
      console.log(
        `stdio rotation under load: ${result.ok} calls, 0 failed; drain ${rotated!.drainMs.toFixed(1)} ms, ${rotated!.held} calls held ` +
          `(longest ${rotated!.maxHoldMs.toFixed(1)} ms); slowest call around the switch, child restart included, ${slowestAround(result, switchedAt).toFixed(1)} ms`,
      );
    } finally {
      seen.stop();
      unsubscribe(VAULT_EVENTS_CHANNEL, listener);
    }
  });
});
