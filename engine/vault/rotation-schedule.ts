/**
 * Scheduled rotation. A credential's `rotation.periodDays` says how long a version may live;
 * "days to rotate" counts down from the active version's creation. When it reaches zero the
 * gateway runs `rotation.command` (if configured), which must print the new secret on stdout,
 * and rotates to it like a version pushed from the CLI; without a command it reports the
 * credential overdue once a day until someone rotates it.
 */
import { execFile } from "node:child_process";
import type { LiveCredential } from "./live-credential.js";
import type { VaultEvent } from "./vault-events.js";

const DAY_MS = 86_400_000;
const COMMAND_TIMEOUT_MS = 60_000;

export function daysToRotate(createdAt: string, periodDays: number, now: number): number {
  return periodDays - (now - Date.parse(createdAt)) / DAY_MS;
}

/**
 * Runs the rotation command with the same minimal environment stdio upstreams get: it mints
 * credentials, so it should not see the gateway's own secrets. Its stderr is not logged, in
 * case it prints what it minted.
 */
export function runRotationCommand(command: readonly string[]): Promise<string> {
  const env: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "LANG", "TMPDIR", "TZ"]) if (process.env[key] !== undefined) env[key] = process.env[key]!;
  return new Promise((resolve, reject) => {
    execFile(command[0]!, command.slice(1), { env, timeout: COMMAND_TIMEOUT_MS, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err !== null) {
        const code = (err as { code?: unknown }).code;
        reject(new Error(`rotation command ${command[0]} failed (${typeof code === "number" ? `exit ${code}` : String(code ?? err.name)})`));
        return;
      }
      resolve(stdout.replace(/\r?\n$/, ""));
    });
  });
}

export class RotationSchedule {
  private readonly overdueReported = new Map<LiveCredential, number>();

  constructor(
    /** Stores and offers a new version (the vault's put). */
    private readonly store: (live: LiveCredential, secret: string) => Promise<unknown>,
    private readonly emit: (event: VaultEvent) => void,
  ) {}

  async run(credentials: Iterable<LiveCredential>, now: number): Promise<void> {
    for (const live of credentials) {
      const rotation = live.config.rotation;
      const record = live.activeRecord;
      if (rotation === undefined || record === undefined) continue;
      const days = daysToRotate(record.createdAt, rotation.periodDays, now);
      if (days > 0) continue;
      if (rotation.command === undefined) {
        if (now - (this.overdueReported.get(live) ?? 0) < DAY_MS) continue;
        this.overdueReported.set(live, now);
        this.emit({ type: "rotation-overdue", tenant: live.tenant, credential: live.name, version: record.version, daysOverdue: -days, at: new Date(now).toISOString() });
        continue;
      }
      try {
        await this.store(live, await runRotationCommand(rotation.command));
      } catch (err) {
        this.emit({ type: "rotation-failed", tenant: live.tenant, credential: live.name, from: record.version, to: record.version + 1, reason: (err as Error).message, at: new Date(now).toISOString() });
      }
    }
  }
}
