/**
 * Runs test/fixtures/audit-gateway-child.ts as a real process, so a test can kill -9 it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import type { SentinelConfig } from "../../engine/config/types.js";
import { REPO_ROOT } from "./gateway-harness.js";

export interface ChildGateway {
  readonly url: string;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  kill9(): Promise<void>;
  /** SIGTERM: a clean close (final checkpoint, sinks drained). */
  stop(): Promise<void>;
}

export async function spawnGateway(config: SentinelConfig): Promise<ChildGateway> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", resolve(REPO_ROOT, "test/fixtures/audit-gateway-child.ts")], {
    cwd: REPO_ROOT,
    env: { ...process.env, SENTINEL_TEST_CONFIG: JSON.stringify(config) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) => resolveUrl((JSON.parse(line) as { url: string }).url));
    void exited.then((code) => reject(new Error(`gateway child exited with ${code} before listening`)));
  });
  return {
    url,
    pid: child.pid!,
    exited,
    async kill9() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A gauge or counter from the gateway's /metrics. */
export async function metric(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{") && l.split(" ")[0] === name);
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}
