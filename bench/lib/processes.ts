/**
 * The parent side of the bench's process protocol: starts a server script in its own Node
 * process (through tsx, optionally pinned to CPUs with taskset), waits for it to announce its
 * address, samples its CPU time, and stops it. Children are also killed if this process exits
 * abruptly, so a failed run never leaves servers holding ports.
 *
 * Programs that do not speak that protocol (the peer proxies) are started with startExternal:
 * ready once their port accepts connections, CPU time read from /proc.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CpuQuery, CpuReply, ReadyMessage } from "./child-side.js";
import { processCpuMicros } from "./proc-tree.js";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface ChildOptions {
  /** CPU list for taskset (`0`, `1`, `0-1`); undefined runs unpinned. */
  readonly cpus?: string | undefined;
  readonly readyTimeoutMs?: number;
  /** Extra Node options, e.g. --cpu-prof. */
  readonly nodeArgs?: readonly string[];
}

export interface BenchChild<Info> {
  readonly name: string;
  readonly pid: number;
  readonly info: Info;
  /** User plus system CPU time the child has used so far, in microseconds. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

/** Starts `script` (a path relative to the repository root) and resolves once it is listening. */
export function startChild<Info>(name: string, script: string, args: readonly string[], options: ChildOptions = {}): Promise<BenchChild<Info>> {
  installExitHook();
  const nodeArgs = [...(options.nodeArgs ?? []), "--import", "tsx", resolve(REPO_ROOT, script), ...args];
  const [command, commandArgs] =
    options.cpus === undefined ? [process.execPath, nodeArgs] : ["taskset", ["-c", options.cpus, process.execPath, ...nodeArgs]];
  const child = spawn(command, commandArgs, { cwd: REPO_ROOT, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  live.add(child);

  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  void exited.then(() => live.delete(child));

  let nextQuery = 1;
  const pending = new Map<number, (micros: number) => void>();
  child.on("message", (message: unknown) => {
    const reply = message as Partial<CpuReply> | null;
    if (reply?.type === "cpu" && typeof reply.id === "number" && typeof reply.micros === "number") {
      pending.get(reply.id)?.(reply.micros);
      pending.delete(reply.id);
    }
  });

  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      rejectStart(new Error(`${name} did not become ready within ${options.readyTimeoutMs ?? 30_000} ms`));
    }, options.readyTimeoutMs ?? 30_000);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      rejectStart(new Error(`${name} exited before it was ready (code ${code ?? "none"}, signal ${signal ?? "none"})`));
    };
    child.once("exit", onExit);
    child.once("error", (err) => {
      clearTimeout(timer);
      rejectStart(new Error(`${name} could not be started: ${err.message}`));
    });
    child.on("message", function onReady(message: unknown) {
      const ready = message as Partial<ReadyMessage> | null;
      if (ready?.type !== "ready" || ready.info === undefined) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      child.off("message", onReady);
      resolveStart({
        name,
        pid: child.pid!,
        info: ready.info as Info,
        cpuMicros() {
          return new Promise((done, fail) => {
            if (!child.connected) return fail(new Error(`${name} is not running`));
            const query: CpuQuery = { type: "cpu", id: nextQuery++ };
            pending.set(query.id, done);
            child.send(query);
          });
        },
        stop: () => terminate(child, exited),
      });
    });
  });
}

export interface ExternalOptions {
  /** CPU list for taskset; undefined runs unpinned. */
  readonly cpus?: string | undefined;
  /** The port the program listens on once it is ready. */
  readonly port: number;
  readonly readyTimeoutMs?: number;
}

/**
 * Starts a program that knows nothing of the bench (`command` is an absolute path or on PATH)
 * and resolves once `options.port` on 127.0.0.1 accepts connections. Its stdout goes to this
 * process's stderr, so the report on stdout stays clean.
 */
export async function startExternal(name: string, command: string, args: readonly string[], options: ExternalOptions): Promise<BenchChild<{ port: number }>> {
  installExitHook();
  const [cmd, cmdArgs] = options.cpus === undefined ? [command, [...args]] : ["taskset", ["-c", options.cpus, command, ...args]];
  const child = spawn(cmd, cmdArgs, { cwd: REPO_ROOT, stdio: ["ignore", 2, "inherit"] });
  live.add(child);
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  void exited.then(() => live.delete(child));
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited before it was ready (code ${child.exitCode ?? "none"})`);
    if (await accepts(options.port)) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${name} did not listen on port ${options.port} within ${options.readyTimeoutMs ?? 30_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name,
    pid: child.pid!,
    info: { port: options.port },
    cpuMicros: async () => processCpuMicros(child.pid!) ?? NaN,
    stop: () => terminate(child, exited),
  };
}

/** SIGTERM, then SIGKILL if the process is still there after a grace period. */
async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(killer);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}

/** A port that was free a moment ago, for programs that cannot be told to pick their own. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}
