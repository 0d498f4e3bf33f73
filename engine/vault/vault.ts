/**
 * The vault at run time: the key ring, the vault file, the tenant credentials and their
 * connection bindings (credential-set.ts), and the background work: the vault file is watched,
 * so a version stored by `sentinel vault put|rotate` in another process starts a rotation here,
 * and the rotation schedule runs hourly.
 */
import { isAbsolute, join } from "node:path";
import type { CredentialConfig, SentinelConfig, VaultConfig } from "../config/types.js";
import type { ConnectionBinding } from "./connection-binding.js";
import { secretProblem } from "./credential-material.js";
import { CredentialSet } from "./credential-set.js";
import { credentialStatuses, type CredentialStatus } from "./credential-status.js";
import { KeyRing } from "./key-ring.js";
import type { CredentialContext } from "./credential-version.js";
import type { LiveCredential } from "./live-credential.js";
import { RotationSchedule } from "./rotation-schedule.js";
import { openRecord, type SecretRecord } from "./secret-records.js";
import { describeVaultEvent, emitVaultEvent, type VaultEvent } from "./vault-events.js";
import { DEFAULT_VAULT_FILE, latestVersions, readVaultFile, storeVersion } from "./vault-file.js";
import { watchVaultFile } from "./vault-file-watch.js";

export const DEFAULT_CACHE_TTL_MS = 300_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;
const SCHEDULE_EVERY_MS = 3_600_000;

export interface VaultOptions {
  readonly dataDir: string;
  readonly config: VaultConfig | undefined;
  readonly log: (line: string) => void;
  readonly env?: Record<string, string | undefined>;
}

export class Vault {
  readonly filePath: string;
  private keyRing: KeyRing | undefined;
  private readonly credentials: CredentialSet;
  private stopWatching: (() => void) | undefined;
  private scheduleTimer: NodeJS.Timeout | undefined;
  private readonly schedule = new RotationSchedule(
    (live, secret) => this.put(live.tenant, live.config, secret, "schedule"),
    (event) => this.emit(event),
  );
  private started = false;

  constructor(private readonly options: VaultOptions) {
    const file = options.config?.file ?? DEFAULT_VAULT_FILE;
    this.filePath = isAbsolute(file) ? file : join(options.dataDir, file);
    const context: CredentialContext = {
      cacheTtlMs: options.config?.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS,
      drainTimeoutMs: options.config?.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
      decrypt: async (record) => {
        const plain = await openRecord(this.ring(), record);
        const text = plain.toString("utf8");
        plain.fill(0);
        return text;
      },
      emit: (event) => this.emit(event),
    };
    this.credentials = new CredentialSet(context);
  }

  /**
   * The key ring, opened on first use. A missing key file (or HSM key) is created only while
   * the vault is empty: with sealed secrets present, a fresh root key could open none of them,
   * so a missing one is an error to fix, not a gap to fill.
   */
  ring(): KeyRing {
    this.keyRing ??= KeyRing.open(this.options.config, this.options.dataDir, readVaultFile(this.filePath).secrets.length === 0);
    return this.keyRing;
  }

  binding(tenant: string, connection: string): ConnectionBinding | undefined {
    return this.credentials.binding(tenant, connection);
  }

  credential(tenant: string, name: string): LiveCredential | undefined {
    return this.credentials.get(tenant, name);
  }

  /** Compiles a validated config's credentials and bindings and swaps them in. */
  publish(config: SentinelConfig): void {
    this.credentials.publish(config, latestVersions(readVaultFile(this.filePath)), (tenant, cc, live) => this.bootstrap(tenant, cc, live));
    this.watchIfNeeded();
  }

  /** True when the published config declares any credential. */
  get inUse(): boolean {
    return this.credentials.size > 0;
  }

  /** Seals a new version of a credential's secret into the vault file and offers it. */
  async put(tenant: string, config: CredentialConfig, secret: string, source: string): Promise<SecretRecord> {
    const problem = secretProblem(config.type, secret);
    if (problem !== undefined) throw new Error(`credential ${config.name}: ${problem}`);
    const record = await storeVersion(this.ring(), this.filePath, tenant, config.name, secret, source);
    this.emit({ type: "version-stored", tenant, credential: config.name, version: record.version, source, at: record.createdAt });
    this.credential(tenant, config.name)?.offer(record);
    return record;
  }

  /** Opens the key ring (creating the key file on first start) and decrypts each active version once. */
  async verify(): Promise<void> {
    const ring = this.ring();
    for (const live of this.credentials.values()) {
      const record = live.activeRecord;
      if (record === undefined) continue;
      const plain = await openRecord(ring, record);
      plain.fill(0);
    }
  }

  /** Each credential's version, age, days to rotate and masked secret, for the admin API. */
  status(config: SentinelConfig, now = Date.now()): Promise<CredentialStatus[]> {
    const latest = latestVersions(readVaultFile(this.filePath));
    let ring: KeyRing | Error | undefined;
    try {
      if (latest.size > 0) ring = this.ring();
    } catch (err) {
      ring = err as Error;
    }
    return credentialStatuses(config, latest, ring, now);
  }

  /** Re-reads the vault file and offers each credential its newest version. */
  refresh(): void {
    let latest: Map<string, SecretRecord>;
    try {
      latest = latestVersions(readVaultFile(this.filePath));
    } catch (err) {
      this.options.log(`vault: ${(err as Error).message}; keeping the versions already known`);
      return;
    }
    for (const [key, live] of this.credentials.entries()) {
      const record = latest.get(key);
      if (record !== undefined) live.offer(record);
    }
  }

  /** Rotates credentials whose period has run out and that have a rotation command. */
  rotateDue(now = Date.now()): Promise<void> {
    return this.schedule.run(this.credentials.values(), now);
  }

  /** Watches the vault file and runs the rotation schedule. */
  start(): void {
    this.started = true;
    this.watchIfNeeded();
    const tick = () => void this.rotateDue().catch((err: Error) => this.options.log(`vault: rotation schedule: ${err.message}`));
    tick();
    this.scheduleTimer = setInterval(tick, SCHEDULE_EVERY_MS);
    this.scheduleTimer.unref();
  }

  async close(): Promise<void> {
    this.stopWatching?.();
    clearInterval(this.scheduleTimer);
    this.credentials.close();
    await this.keyRing?.close();
    this.keyRing = undefined;
  }

  /** Watches the vault file once some credential is configured (creating its directory, 0700, if needed). */
  private watchIfNeeded(): void {
    if (!this.started || this.stopWatching !== undefined || !this.inUse) return;
    this.stopWatching = watchVaultFile(this.filePath, () => this.refresh());
  }

  private bootstrap(tenant: string, config: CredentialConfig, live: LiveCredential): void {
    const value = (this.options.env ?? process.env)[config.bootstrapEnv!];
    if (value === undefined || value === "") return;
    const pending = this.put(tenant, config, value, "bootstrap-env").catch((err: Error) => this.options.log(`vault: bootstrap of ${tenant}/${config.name} failed: ${err.message}`));
    live.expect(pending);
  }

  private emit(event: VaultEvent): void {
    this.options.log(describeVaultEvent(event));
    emitVaultEvent(event);
  }
}
