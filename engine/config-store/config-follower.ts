/**
 * Keeps a process on the store's current config version. Three ways to hear of a new one, fastest
 * first: a commit made in this process (`ConfigVersions.onCommit`, no round trip), Postgres
 * LISTEN on `sentinel_config` (another process committed; the notification is sent when its
 * transaction commits), and a slow poll of the head, which covers a notification lost while the
 * listening connection was down. Every path only schedules a check; checks never overlap, and a
 * check reads the head itself, so duplicates and out-of-order notifications are harmless.
 */
import { CONFIG_CHANNEL, type ConfigVersions, type StoredVersion } from "./config-versions.js";

export interface FollowerOptions {
  /** The version already in force; only newer ones are delivered. */
  readonly from: number;
  /** Publishes a version; a throw is logged and the version is not retried until a newer one. */
  readonly apply: (version: StoredVersion) => void | Promise<void>;
  readonly log: (line: string) => void;
  /** The safety-net poll; default 2 s. */
  readonly pollMs?: number;
}

export class ConfigFollower {
  private seen: number;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: Array<() => Promise<void> | void> = [];
  private closed = false;

  constructor(
    private readonly versions: ConfigVersions,
    private readonly options: FollowerOptions,
  ) {
    this.seen = options.from;
  }

  /** The newest version this follower has handled (published, or refused as invalid here). */
  get version(): number {
    return this.seen;
  }

  async start(): Promise<void> {
    this.unsubscribe.push(this.versions.onCommit(() => this.check()));
    if (this.versions.store.kind === "postgres") {
      this.unsubscribe.push(await this.versions.store.listen(CONFIG_CHANNEL, () => this.check()));
    }
    this.timer = setInterval(() => this.check(), this.options.pollMs ?? 2000);
    this.timer.unref();
    // A commit between reading `from` and listening would otherwise wait for the poll.
    this.check();
  }

  /** Schedules a check; resolves when the checks in flight (and one queued) are done. */
  check(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.catchUp().catch((err: Error) => this.options.log(`config store: cannot read the current version: ${err.message}`));
      } while (this.again && !this.closed);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async catchUp(): Promise<void> {
    const head = await this.versions.headVersion();
    if (head <= this.seen) return;
    // Straight to the head: intermediate versions were superseded before this process saw them.
    const version = await this.versions.current();
    if (version === undefined || version.version <= this.seen) return;
    this.seen = version.version;
    try {
      await this.options.apply(version);
    } catch (err) {
      this.options.log(`config version ${version.version} not published, keeping the running one: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all(this.unsubscribe.map((fn) => fn()));
    await this.running;
  }
}
