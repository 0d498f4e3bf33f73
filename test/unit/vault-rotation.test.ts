import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CredentialConfig } from "../../engine/config/types.js";
import { CredentialUnavailableError, type CredentialVersion } from "../../engine/vault/credential-version.js";
import { KeyRing } from "../../engine/vault/key-ring.js";
import { LiveCredential } from "../../engine/vault/live-credential.js";
import { openRecord, sealRecord, type SecretRecord } from "../../engine/vault/secret-records.js";
import { VAULT_EVENTS_CHANNEL, type VaultEvent } from "../../engine/vault/vault-events.js";
import { Vault } from "../../engine/vault/vault.js";
import { startOAuthServer, type OAuthTokenServer } from "../fixtures/oauth-token-server.js";

const config: CredentialConfig = { name: "api", type: "bearer", connections: ["svc"] };
const ring = KeyRing.open(undefined, mkdtempSync(join(tmpdir(), "sentinel-rot-")), true);
const seal = (version: number, secret: string) => sealRecord(ring, { tenant: "acme", credential: "api", version }, Buffer.from(secret), "test");

function credential(drainTimeoutMs = 1_000, cacheTtlMs = 60_000) {
  const events: VaultEvent[] = [];
  const live = new LiveCredential("acme", config, {
    cacheTtlMs,
    drainTimeoutMs,
    decrypt: async (r: SecretRecord) => (await openRecord(ring, r)).toString(),
    emit: (e) => events.push(e),
  });
  return { live, events };
}

const header = (v: CredentialVersion) => v.headers?.authorization;
const open: LiveCredential[] = [];
afterEach(() => open.splice(0).forEach((l) => l.close()));

describe("rotation with drain", () => {
  it("a call in flight finishes on the old version; new calls wait for the switch, then use the new one", async () => {
    const { live, events } = credential();
    open.push(live);
    live.offer(await seal(1, "secret-one-aaaa"));
    const inflight = (await live.acquire()) as CredentialVersion;
    live.offer(await seal(2, "secret-two-bbbb"));
    const held = live.acquire();
    expect(held).toBeInstanceOf(Promise);
    await new Promise((r) => setTimeout(r, 20));
    expect(header(inflight)).toBe("Bearer secret-one-aaaa");
    live.release(inflight);
    const next = await held;
    expect(header(next)).toBe("Bearer secret-two-bbbb");
    expect(events).toContainEqual(expect.objectContaining({ type: "rotated", from: 1, to: 2, inFlightAtStart: 1, held: 1, forced: false }));
    // The old secret stays scrubbable while anything could still echo it.
    expect(live.scrubText("x secret-one-aaaa secret-two-bbbb")).toBe("x •••aaaa •••bbbb");
  });

  it("the hold is bounded: a call that never finishes does not keep new calls waiting past drainTimeoutMs", async () => {
    const { live, events } = credential(150);
    open.push(live);
    live.offer(await seal(1, "secret-one-aaaa"));
    await live.acquire();
    live.offer(await seal(2, "secret-two-bbbb"));
    const started = performance.now();
    const next = await live.acquire();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(header(next)).toBe("Bearer secret-two-bbbb");
    expect(events).toContainEqual(expect.objectContaining({ type: "rotated", forced: true }));
  });

  it("a new version that cannot be opened abandons the rotation; held calls go on with the old one", async () => {
    const { live, events } = credential();
    open.push(live);
    live.offer(await seal(1, "secret-one-aaaa"));
    const inflight = (await live.acquire()) as CredentialVersion;
    const bad = await seal(2, "secret-two-bbbb");
    live.offer({ ...bad, tenant: "globex" });
    const held = live.acquire();
    const outcome = await held;
    live.release(inflight);
    expect(header(outcome)).toBe("Bearer secret-one-aaaa");
    expect(events).toContainEqual(expect.objectContaining({ type: "rotation-failed", from: 1, to: 2 }));
  });

  it("a decrypted secret is dropped from memory once its cache time is up and nothing uses it", async () => {
    const { live } = credential(1_000, 1_000);
    open.push(live);
    live.offer(await seal(1, "secret-one-aaaa"));
    const v = (await live.acquire()) as CredentialVersion;
    live.release(v);
    expect(live.scrubber().empty).toBe(false);
    await new Promise((r) => setTimeout(r, 2_200));
    expect(v.headers).toBeUndefined();
    expect(live.scrubber().empty).toBe(true);
    expect(header((await live.acquire()) as CredentialVersion)).toBe("Bearer secret-one-aaaa");
  });
});

describe("an OAuth token given to stdio children (envVar)", () => {
  let oauth: OAuthTokenServer | undefined;
  afterEach(async () => {
    await oauth?.close();
    oauth = undefined;
  });

  async function oauthCredential(lifetimeS: number, secrets: () => readonly string[]) {
    oauth = await startOAuthServer({ clientId: "gw", clientSecrets: secrets, lifetimeS });
    const events: VaultEvent[] = [];
    const cfg: CredentialConfig = { name: "api", type: "oauth-client-credentials", envVar: "ACCESS_TOKEN", connections: ["svc"], oauth: { tokenUrl: oauth.tokenUrl, clientId: "gw", refreshBeforeSeconds: lifetimeS / 2 } };
    const live = new LiveCredential("acme", cfg, { cacheTtlMs: 60_000, drainTimeoutMs: 2_000, decrypt: async (r: SecretRecord) => (await openRecord(ring, r)).toString(), emit: (e) => events.push(e) });
    open.push(live);
    live.offer(await seal(1, "client-secret-aaaa"));
    return { live, events };
  }
  const token = (v: CredentialVersion) => v.env?.ACCESS_TOKEN;

  it("a refresh is a switch: the call in flight keeps the old token, new calls wait, then get a successor and the children are told", async () => {
    const { live, events } = await oauthCredential(3, () => ["client-secret-aaaa"]);
    const first = (await live.acquire()) as CredentialVersion;
    const t1 = token(first)!;
    const switches: string[] = [];
    live.onSwitch(() => switches.push("switched"));
    // The refresh falls due after 1.5 s while `first` is still in flight.
    await new Promise((r) => setTimeout(r, 2_200));
    const held = live.acquire();
    expect(held).toBeInstanceOf(Promise);
    expect(switches).toEqual([]);
    expect(token(first)).toBe(t1);
    live.release(first);
    const next = await held;
    expect(next).not.toBe(first);
    expect(next.version).toBe(1);
    expect(token(next)).toMatch(/^\S{32}$/);
    expect(token(next)).not.toBe(t1);
    expect(switches).toEqual(["switched"]);
    expect(events).toContainEqual(expect.objectContaining({ type: "token-refreshed", version: 1, inFlightAtStart: 1, held: 1, forced: false }));
    // The old token stays scrubbable while anything could still echo it.
    expect(live.scrubText(`${t1} ${token(next)}`)).not.toContain(t1.slice(4, -4));
    live.release(next);
  });

  it("a token past use holds calls until a new one arrives; when the token endpoint refuses, they fail as unavailable, never go out with the dead token", async () => {
    let secrets = ["client-secret-aaaa"];
    const { live, events } = await oauthCredential(2, () => secrets);
    const first = (await live.acquire()) as CredentialVersion;
    live.release(first);
    // The refresh ahead of expiry (at 1 s) switches to a second token that nobody uses, so
    // nothing refreshes it: it runs out at 3 s.
    await new Promise((r) => setTimeout(r, 1_800));
    expect(events.filter((e) => e.type === "token-refreshed")).toHaveLength(1);
    secrets = [];
    await new Promise((r) => setTimeout(r, 1_500));
    await expect(Promise.resolve(live.acquire())).rejects.toBeInstanceOf(CredentialUnavailableError);
    expect(events).toContainEqual(expect.objectContaining({ type: "credential-unavailable", credential: "api" }));
    secrets = ["client-secret-aaaa"];
    const later = (await live.acquire()) as CredentialVersion;
    expect(later.usable()).toBe(true);
    expect(token(later)).not.toBe(token(first));
    live.release(later);
  });
});

describe("scheduled rotation", () => {
  it("runs the rotation command when the period is up and rotates to what it printed; without a command it reports overdue", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sentinel-sched-"));
    const events: VaultEvent[] = [];
    const listener = (e: unknown) => events.push(e as VaultEvent);
    subscribe(VAULT_EVENTS_CHANNEL, listener);
    const vault = new Vault({ dataDir, config: undefined, log: () => undefined });
    try {
      const minted: CredentialConfig = { name: "minted", type: "bearer", connections: ["a"], rotation: { periodDays: 30, command: [process.execPath, "-e", "console.log('minted-secret-' + 'v2-zzzz')"] } };
      const manual: CredentialConfig = { name: "manual", type: "bearer", connections: ["b"], rotation: { periodDays: 30 } };
      vault.publish({
        version: 1,
        server: { host: "127.0.0.1", port: 0, maxBodyBytes: 1 << 20, sessionIdleTimeoutMs: 60_000 },
        tenants: [{ id: "acme", credentials: [minted, manual], connections: [{ name: "a", transport: "http", url: "http://127.0.0.1:1/", credential: "minted" }, { name: "b", transport: "http", url: "http://127.0.0.1:1/", credential: "manual" }] }],
      });
      await vault.put("acme", minted, "minted-secret-v1-yyyy", "test");
      await vault.put("acme", manual, "manual-secret-v1-xxxx", "test");
      await vault.rotateDue(Date.now() + 10 * 86_400_000);
      expect(vault.credential("acme", "minted")!.activeRecord!.version).toBe(1);
      await vault.rotateDue(Date.now() + 31 * 86_400_000);
      const live = vault.credential("acme", "minted")!;
      expect(live.activeRecord).toMatchObject({ version: 2, source: "schedule" });
      expect(header((await live.acquire()) as CredentialVersion)).toBe("Bearer minted-secret-v2-zzzz");
      expect(events).toContainEqual(expect.objectContaining({ type: "rotation-overdue", credential: "manual" }));
      expect(JSON.stringify(events)).not.toContain("secret-v");
    } finally {
      unsubscribe(VAULT_EVENTS_CHANNEL, listener);
      await vault.close();
    }
  });
});
