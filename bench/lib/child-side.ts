/**
 * The child side of the bench's process protocol (see processes.ts for the parent side).
 *
 * Every server in a bench run (upstream, bare proxy, Sentinel) lives in its own process so it
 * never shares an event loop with the load generator or with another server. The parent talks
 * to it over Node's IPC channel: the child announces "ready" with its address, answers CPU-usage
 * queries (so the report can give CPU time per call), and exits when told to or when the parent
 * goes away, so an interrupted run never leaves servers behind.
 */

export interface ReadyMessage {
  readonly type: "ready";
  readonly info: Record<string, unknown>;
}

export interface CpuQuery {
  readonly type: "cpu";
  readonly id: number;
}

export interface CpuReply {
  readonly type: "cpu";
  readonly id: number;
  /** User plus system CPU time of the whole process (all threads), in microseconds. */
  readonly micros: number;
}

/**
 * Installs the control handlers. `stop` releases the server's resources; the process exits
 * after it, whatever it returns.
 */
export function serveControl(stop: () => unknown): void {
  let stopping = false;
  const exit = (): void => {
    if (stopping) return;
    stopping = true;
    Promise.resolve()
      .then(stop)
      .catch(() => undefined)
      .finally(() => process.exit(0));
  };
  process.on("message", (message: unknown) => {
    const query = message as Partial<CpuQuery> | null;
    if (query?.type === "cpu" && typeof query.id === "number") {
      const usage = process.cpuUsage();
      const reply: CpuReply = { type: "cpu", id: query.id, micros: usage.user + usage.system };
      process.send?.(reply);
    }
  });
  process.on("disconnect", exit);
  process.on("SIGTERM", exit);
  process.on("SIGINT", exit);
}

/** Tells the parent the server is listening; when run by hand, prints the same as one JSON line. */
export function announceReady(info: Record<string, unknown>): void {
  const message: ReadyMessage = { type: "ready", info };
  if (process.send !== undefined) process.send(message);
  else process.stdout.write(JSON.stringify(info) + "\n");
}

/** Reads `--name value` from argv, with a default; the children take only a few simple options. */
export function argValue(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? process.argv[at + 1] : undefined;
  return value ?? fallback;
}
