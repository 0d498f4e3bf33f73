/**
 * stdio upstreams: one child process per gateway session, started on demand, speaking
 * newline-delimited JSON-RPC on stdin/stdout.
 *
 * A process per session is what stdio servers expect (they hold one client's state), and it
 * keeps server→client requests (sampling, elicitation) unambiguous about whose they are.
 * After a crash the process is restarted with exponential backoff and the session's original
 * initialize handshake is replayed, so the downstream client keeps its session; calls that
 * were in flight at the crash get an error rather than hanging.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import type { StdioConnectionConfig } from "../config/types.js";
import { refuse, toJsonRpcError } from "../errors.js";
import {
  isNotification,
  isRefusal,
  isRequest,
  isResponse,
  validateMessage,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcRequest,
} from "../mcp/jsonrpc.js";
import { AsyncQueue } from "./async-queue.js";
import type { CallCredential, UpstreamConnection, UpstreamCredential, UpstreamEvent, UpstreamReply, UpstreamSession } from "./upstream.js";

export class UpstreamUnavailableError extends Error {
  override readonly name = "UpstreamUnavailableError";
}

// The child gets only these from the gateway's environment, plus its configured `env`: the
// gateway's own secrets (database URLs, root keys) must not leak into third-party servers.
const INHERITED_ENV = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "SystemRoot"];
const STABLE_AFTER_MS = 60_000;
const BACKLOG_LIMIT = 256;

export class StdioUpstream implements UpstreamConnection {
  readonly name: string;
  readonly timeoutMs: number;
  private readonly sessions = new Set<StdioUpstreamSession>();
  private readonly unsubscribe: (() => void) | undefined;

  constructor(
    readonly config: StdioConnectionConfig,
    private readonly credential?: UpstreamCredential,
  ) {
    this.name = config.name;
    this.timeoutMs = config.timeoutMs ?? 60_000;
    // A rotated credential reaches a child only through its environment, so each session
    // restarts its child once its calls have drained (the credential held new calls until now).
    this.unsubscribe = credential?.onSwitch(() => {
      for (const session of this.sessions) session.respawnWhenIdle();
    });
  }

  openSession(): UpstreamSession {
    const session = new StdioUpstreamSession(this.config, this.credential, () => this.sessions.delete(session));
    this.sessions.add(session);
    return session;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all([...this.sessions].map((s) => s.terminate()));
  }
}

interface Pending {
  readonly progressToken: unknown;
  resolve: ((reply: UpstreamReply) => void) | undefined;
  queue: AsyncQueue<UpstreamEvent> | undefined;
}

class StdioUpstreamSession implements UpstreamSession {
  protocolVersion: string | undefined;
  private child: ChildProcessWithoutNullStreams | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<JsonRpcId, Pending>();
  private listenQueue: AsyncQueue<UpstreamEvent> | undefined;
  private backlog: JsonRpcMessage[] = [];
  private initRequest: JsonRpcRequest | undefined;
  private initialized: JsonRpcMessage | undefined;
  private restarts = 0;
  private startedAt = 0;
  private terminated = false;
  private fatal: string | undefined;
  private readonly stderrTail: string[] = [];
  /** The credential version in the running child's environment. */
  private envVersion: CallCredential | undefined;
  private respawnWanted = false;
  private respawns = 0;
  private handshakeSent = false;
  /** Counts credential switches, so a child started during one knows it got the old environment. */
  private switches = 0;

  constructor(
    private readonly config: StdioConnectionConfig,
    private readonly credential: UpstreamCredential | undefined,
    private readonly onEnd: () => void,
  ) {}

  /** Restarts the child with the credential's new environment as soon as no call is pending. */
  respawnWhenIdle(): void {
    this.switches++;
    // A child still being started checks `switches` once it runs (start()).
    if (this.child === undefined || this.terminated) return;
    this.respawnWanted = true;
    if (this.pending.size === 0) this.respawn();
  }

  private respawn(): void {
    this.respawnWanted = false;
    const old = this.child;
    if (old === undefined) return;
    this.child = undefined;
    this.releaseEnv();
    this.respawns++;
    // Requests arriving from here on wait for the new child, which replays the handshake (if
    // the client's initialize was sent at all: one still waiting goes to the new child itself).
    this.ready = this.start(0, this.handshakeSent);
    this.ready.catch(() => undefined);
    void stopChild(old);
  }

  private releaseEnv(): void {
    if (this.envVersion !== undefined) this.credential?.unhold(this.envVersion);
    this.envVersion = undefined;
  }

  async request(message: JsonRpcRequest): Promise<UpstreamReply> {
    if (message.method === "initialize") this.initRequest = message;
    await this.ensureRunning();
    const meta = (message.params?._meta ?? undefined) as { progressToken?: unknown } | undefined;
    return new Promise<UpstreamReply>((resolve) => {
      this.pending.set(message.id, { progressToken: meta?.progressToken, resolve, queue: undefined });
      this.write(message);
      if (message.method === "initialize") this.handshakeSent = true;
    });
  }

  async deliver(message: JsonRpcMessage): Promise<UpstreamReply> {
    if (isNotification(message) && message.method === "notifications/initialized") this.initialized = message;
    await this.ensureRunning();
    this.write(message);
    return { kind: "accepted" };
  }

  async listen(): Promise<UpstreamReply> {
    if (this.listenQueue !== undefined && !this.listenQueue.isEnded) {
      return { kind: "status", status: 409, body: "a stream is already open for this session", contentType: "text/plain" };
    }
    const queue = new AsyncQueue<UpstreamEvent>();
    this.listenQueue = queue;
    for (const message of this.backlog) queue.push({ message, sse: undefined });
    this.backlog = [];
    return { kind: "stream", events: queue, cancel: () => queue.end() };
  }

  async terminate(): Promise<void> {
    if (this.terminated) return;
    this.terminated = true;
    this.failPending("the session ended");
    this.listenQueue?.end();
    const child = this.child;
    this.child = undefined;
    this.releaseEnv();
    this.onEnd();
    if (child === undefined || child.exitCode !== null) return;
    await stopChild(child);
  }

  private async ensureRunning(): Promise<void> {
    if (this.terminated) throw new UpstreamUnavailableError("the upstream session has ended");
    if (this.fatal !== undefined) throw new UpstreamUnavailableError(this.fatal);
    // A respawn (credential switch) may replace the child while a request waits for it: wait
    // for the newest start, or the request would be written to a stopped or unready child.
    for (;;) {
      const ready = (this.ready ??= this.start(0));
      await ready;
      if (this.ready === ready) return;
    }
  }

  private async start(delayMs: number, replay = this.restarts > 0): Promise<void> {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (this.terminated) throw new UpstreamUnavailableError("the upstream session has ended");
    const env: Record<string, string> = {};
    for (const key of INHERITED_ENV) {
      const v = process.env[key];
      if (v !== undefined) env[key] = v;
    }
    Object.assign(env, this.config.env);
    const switches = this.switches;
    if (this.credential !== undefined) {
      let version: CallCredential;
      try {
        version = await this.credential.current();
      } catch (err) {
        throw new UpstreamUnavailableError((err as Error).message);
      }
      if (this.terminated) throw new UpstreamUnavailableError("the upstream session has ended");
      // The credential's variables win over the configured env: they are the vault's to set.
      Object.assign(env, version.env);
      this.credential.hold(version);
      this.envVersion = version;
    }
    const child = spawn(this.config.command, this.config.args ?? [], {
      cwd: this.config.cwd,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child = child;
    this.startedAt = Date.now();
    const spawned = new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (err) => reject(new UpstreamUnavailableError(`cannot start "${this.config.command}": ${err.message}`)));
    });
    child.stdin.on("error", () => {
      // EPIPE after the child died; the exit handler deals with it.
    });
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (line) => this.onLine(line));
    createInterface({ input: child.stderr, crlfDelay: Infinity }).on("line", (raw) => {
      // A server that prints its environment must not put the credential in the gateway's log.
      const line = this.credential === undefined ? raw : this.credential.scrubText(raw);
      this.stderrTail.push(line);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
      if (process.env.SENTINEL_LOG_UPSTREAM_STDERR === "1") process.stderr.write(`[upstream ${this.config.name}] ${line}\n`);
    });
    child.once("exit", (code, signal) => this.onExit(child, code, signal));
    await spawned;
    // After a restart, replay the client's handshake so the new process is in the same
    // protocol state the downstream client believes it is in.
    if (replay && this.initRequest !== undefined) await this.replayHandshake(this.initRequest);
    // The credential switched while this child was starting: it may hold the old environment.
    if (this.switches !== switches && this.child === child) {
      this.respawnWanted = true;
      if (this.pending.size === 0) this.respawn();
    }
  }

  private async replayHandshake(init: JsonRpcRequest): Promise<void> {
    const id = `sentinel-reinit-${this.restarts}-${this.respawns}`;
    const reply = await new Promise<UpstreamReply>((resolve) => {
      this.pending.set(id, { progressToken: undefined, resolve, queue: undefined });
      this.write({ ...init, id });
    });
    if (reply.kind !== "json") throw new UpstreamUnavailableError("the restarted upstream did not complete initialize");
    if (this.initialized !== undefined) this.write(this.initialized);
  }

  private onExit(child: ChildProcessWithoutNullStreams, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.releaseEnv();
    if (this.terminated) return;
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    process.stderr.write(`sentinel: upstream "${this.config.name}" exited with ${how}${this.stderrTail.length ? `; last stderr: ${this.stderrTail.at(-1)}` : ""}\n`);
    this.failPending(`the upstream process exited (${how})`);
    if (Date.now() - this.startedAt > STABLE_AFTER_MS) this.restarts = 0;
    const policy = this.config.restart ?? {};
    const max = policy.maxRestarts ?? 5;
    if (this.restarts >= max) {
      this.fatal = `the upstream process exited ${this.restarts + 1} times in a row; not restarting`;
      this.ready = Promise.reject(new UpstreamUnavailableError(this.fatal));
      this.ready.catch(() => undefined);
      return;
    }
    const delay = Math.min((policy.initialDelayMs ?? 100) * 2 ** this.restarts, policy.maxDelayMs ?? 10_000);
    this.restarts++;
    this.ready = this.start(delay);
    this.ready.catch(() => undefined);
  }

  private failPending(reason: string): void {
    for (const [id, entry] of this.pending) {
      const message: JsonRpcMessage = { jsonrpc: "2.0", id, error: toJsonRpcError(refuse("SENTINEL_UPSTREAM_UNAVAILABLE", reason)) };
      this.settle(entry, message, true);
    }
    this.pending.clear();
  }

  private write(message: JsonRpcMessage): void {
    this.child?.stdin.write(JSON.stringify(message) + "\n");
  }

  private onLine(line: string): void {
    if (line.trim() === "") return;
    let message: JsonRpcMessage | undefined;
    try {
      const m = validateMessage(JSON.parse(line));
      if (!isRefusal(m)) message = m;
    } catch {
      message = undefined;
    }
    if (message === undefined) {
      process.stderr.write(`sentinel: upstream "${this.config.name}" wrote a line that is not JSON-RPC; dropped\n`);
      return;
    }
    this.route(message);
  }

  /** Sends an upstream message to the request it belongs to, or to the listening stream. */
  private route(message: JsonRpcMessage): void {
    if (isResponse(message)) {
      const entry = this.pending.get(message.id);
      if (entry === undefined) return;
      this.pending.delete(message.id);
      this.settle(entry, message, true);
      if (this.respawnWanted && this.pending.size === 0) this.respawn();
      return;
    }
    const entry = this.relatedPending(message);
    if (entry !== undefined) {
      this.settle(entry, message, false);
      return;
    }
    if (this.listenQueue !== undefined && !this.listenQueue.isEnded) {
      this.listenQueue.push({ message, sse: undefined });
      return;
    }
    this.backlog.push(message);
    if (this.backlog.length > BACKLOG_LIMIT) this.backlog.shift();
  }

  /**
   * stdio has no per-request streams, so relate by content: progress by its token; any other
   * server request or notification goes to the newest call in flight, which is the one that
   * triggered it in practice (a tool asking for sampling or elicitation mid-call). With nothing
   * in flight it is a standalone message for the listening stream.
   */
  private relatedPending(message: JsonRpcMessage): Pending | undefined {
    if (isNotification(message) && message.method === "notifications/progress") {
      const token = message.params?.progressToken;
      for (const entry of this.pending.values()) if (entry.progressToken === token) return entry;
      return undefined;
    }
    if (isNotification(message) && message.method.endsWith("/list_changed")) return undefined;
    if (isNotification(message) && message.method === "notifications/resources/updated") return undefined;
    if (isRequest(message) || isNotification(message)) {
      let newest: Pending | undefined;
      for (const entry of this.pending.values()) newest = entry;
      return newest;
    }
    return undefined;
  }

  private settle(entry: Pending, message: JsonRpcMessage, final: boolean): void {
    if (entry.resolve !== undefined) {
      const resolve = entry.resolve;
      entry.resolve = undefined;
      if (final) {
        resolve({ kind: "json", message });
        return;
      }
      const queue = new AsyncQueue<UpstreamEvent>();
      entry.queue = queue;
      resolve({ kind: "stream", events: queue, cancel: () => queue.end() });
    }
    entry.queue?.push({ message, sse: undefined });
    if (final) entry.queue?.end();
  }
}

/** Ends a child: stdin closed and SIGTERM, SIGKILL if it is still there after two seconds. */
function stopChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), 2_000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.stdin.end();
    child.kill("SIGTERM");
  });
}
