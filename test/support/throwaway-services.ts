/**
 * Private PostgreSQL and Kafka instances for tests that stop and restart them (outages), so the
 * shared services of deploy/local/services.sh keep running for every other test. Same binaries
 * (the system's PostgreSQL, the broker jars services.sh downloaded), own data directories and
 * ports, always stopped by the test.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { REPO_ROOT } from "./gateway-harness.js";

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

function pgBin(): string {
  const versions = readdirSync("/usr/lib/postgresql").filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`)).sort((a, b) => Number(a) - Number(b));
  const v = versions.at(-1);
  if (v === undefined) throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql (bash deploy/local/services.sh up installs them)");
  return `/usr/lib/postgresql/${v}/bin`;
}

const asRoot = process.getuid?.() === 0;

function pgRun(args: string[]): void {
  // postgres refuses to run as root: run its tools as the postgres user.
  const [cmd, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", ...args]] : [args[0]!, args.slice(1)];
  const r = spawnSync(cmd, argv, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr || r.stdout}`);
}

export interface ThrowawayPostgres {
  readonly url: string;
  readonly dir: string;
  start(): void;
  /** An immediate shutdown: what a crash looks like to clients. */
  stop(): void;
}

/** In its own temporary directory: the postgres user must reach it, which a test's 0700 temp dir forbids. */
export async function throwawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = pgBin();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sentinel-pg-"));
  chmodSync(dir, 0o700);
  if (asRoot) chownSync(dir, 101, 104);
  const data = join(dir, "data");
  pgRun([`${bin}/initdb`, "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]);
  writeFileSync(join(data, "postgresql.auto.conf"), `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = ''\nfsync = on\n`);
  if (asRoot) chownSync(join(data, "postgresql.auto.conf"), 101, 104);
  const pg: ThrowawayPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    start: () => pgRun([`${bin}/pg_ctl`, "-D", data, "-l", join(dir, "log"), "-w", "-t", "60", "start"]),
    stop: () => pgRun([`${bin}/pg_ctl`, "-D", data, "-m", "immediate", "-w", "stop"]),
  };
  pg.start();
  return pg;
}

export interface ThrowawayKafka {
  readonly brokers: string;
  start(): Promise<void>;
  /** SIGKILL: the broker vanishes mid-conversation. */
  kill(): Promise<void>;
}

export async function throwawayKafka(dir: string): Promise<ThrowawayKafka> {
  const libs = process.env.SENTINEL_KAFKA_LIBS ?? resolve(REPO_ROOT, ".services/kafka/libs");
  if (!existsSync(libs)) throw new Error(`Kafka jars not found at ${libs}: run bash deploy/local/services.sh up`);
  const log4j = process.env.SENTINEL_KAFKA_LOG4J ?? resolve(REPO_ROOT, "deploy/local/kafka/log4j.properties");
  const [port, ctl] = [await freePort(), await freePort()];
  mkdirSync(dir, { recursive: true });
  const props = join(dir, "server.properties");
  writeFileSync(
    props,
    [
      "process.roles=broker,controller", "node.id=1", `controller.quorum.voters=1@127.0.0.1:${ctl}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${ctl}`, `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT", "controller.listener.names=CONTROLLER",
      "inter.broker.listener.name=PLAINTEXT", `log.dirs=${join(dir, "data")}`, "num.partitions=3", "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=1", "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
      "group.initial.rebalance.delay.ms=0", "auto.create.topics.enable=true",
    ].join("\n") + "\n",
  );
  const java = (args: string[]) => ["-Xmx384m", "-XX:TieredStopAtLevel=1", `-Dlog4j.configuration=file:${log4j}`, "-cp", `${libs}/*`, ...args];
  const clusterId = randomBytes(16).toString("base64url");
  const fmt = spawnSync("java", java(["kafka.tools.StorageTool", "format", "-t", clusterId, "-c", props, "--ignore-formatted"]), { encoding: "utf8" });
  if (fmt.status !== 0) throw new Error(`kafka storage format failed: ${fmt.stderr}`);
  let proc: ChildProcess | undefined;
  const kafka: ThrowawayKafka = {
    brokers: `127.0.0.1:${port}`,
    async start() {
      const p = spawn("java", java([`-Dkafka.logs.dir=${dir}`, "kafka.Kafka", props]), { stdio: ["ignore", "pipe", "pipe"] });
      proc = p;
      await new Promise<void>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error("throwaway kafka did not start within 90 s")), 90_000);
        const watch = (chunk: Buffer) => {
          if (chunk.toString().includes("Kafka Server started")) {
            clearTimeout(timer);
            ok();
          }
        };
        p.stdout!.on("data", watch);
        p.stderr!.on("data", watch);
        p.once("exit", (code) => fail(new Error(`throwaway kafka exited with ${code}`)));
      });
    },
    async kill() {
      const p = proc;
      if (p === undefined || p.exitCode !== null) return;
      const gone = new Promise((r) => p.once("exit", r));
      p.kill("SIGKILL");
      await gone;
    },
  };
  await kafka.start();
  return kafka;
}
