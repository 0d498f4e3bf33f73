// Smoke test for the real services started by deploy/local/services.sh (ARCHITECTURE.md §5).
// It fails, never skips, when they are not reachable: the rest of the integration suite relies on
// them, so a missing database or broker has to show up as a red test, not a quiet skip.
//
// Run alone:
//   bash deploy/local/services.sh up && eval "$(bash deploy/local/services.sh env)"
//   npx vitest run --project integration test/integration/services.test.ts
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const HINT = 'start them with: bash deploy/local/services.sh up && eval "$(bash deploy/local/services.sh env)"';

function requireEnv(name: "DATABASE_URL" | "KAFKA_BROKERS"): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === "") {
    throw new Error(`${name} is not set; the real services are required for integration tests (${HINT})`);
  }
  return value.trim();
}

/** Resolves when host:port accepts a TCP connection; rejects with a readable message otherwise. */
function probeTcp(what: string, hostPort: string, timeoutMs = 3_000): Promise<void> {
  const sep = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, sep);
  const port = Number(hostPort.slice(sep + 1));
  if (sep <= 0 || !Number.isInteger(port)) return Promise.reject(new Error(`${what}: bad address "${hostPort}"`));
  return new Promise((resolvePromise, reject) => {
    const socket = connect({ host, port });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new Error(`cannot reach ${what} at ${hostPort}: ${reason} (${HINT})`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`));
    socket.once("error", (err) => fail(err.message));
    socket.once("connect", () => {
      socket.end();
      resolvePromise();
    });
  });
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { input?: string; timeoutMs: number }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin.on("error", () => {
      // The process may exit before reading stdin; its exit status tells the story.
    });
    child.stdin.end(opts.input ?? "");
  });
}

function describeFailure(what: string, r: RunResult): string {
  const how = r.signal === "SIGKILL" ? "timed out" : `exited with ${r.code ?? r.signal}`;
  return `${what} ${how}\n--- stdout ---\n${r.stdout.slice(-2000)}\n--- stderr ---\n${r.stderr.slice(-4000)}`;
}

describe("real services", () => {
  describe("postgres (DATABASE_URL)", () => {
    let sql: postgres.Sql | undefined;

    afterAll(async () => {
      await sql?.end({ timeout: 5 });
    });

    it("connects, writes a temp table and reads it back", async () => {
      const url = requireEnv("DATABASE_URL");
      const { hostname, port } = new URL(url);
      await probeTcp("postgres", `${hostname}:${port || "5432"}`);
      // One connection, so the temp table is visible to every statement below.
      sql = postgres(url, { max: 1, connect_timeout: 10, idle_timeout: 5, onnotice: () => {} });

      const [server] = await sql<{ version: string }[]>`select version() as version`;
      expect(server?.version).toMatch(/PostgreSQL/);

      await sql`create temp table sentinel_smoke (id int primary key, note text not null, at timestamptz not null default now())`;
      const note = `smoke-${randomUUID()}`;
      await sql`insert into sentinel_smoke (id, note) values (1, ${note}), (2, ${"second"})`;
      const rows = await sql<{ id: number; note: string }[]>`select id, note from sentinel_smoke order by id`;
      expect(rows.map((r) => ({ id: r.id, note: r.note }))).toEqual([
        { id: 1, note },
        { id: 2, note: "second" },
      ]);
    });
  });

  describe("kafka (KAFKA_BROKERS)", () => {
    // No Node Kafka client is installed yet, so the round trip uses the broker's own jars from
    // .services/kafka/libs. In 3.9.1 those hold kafka.tools.ConsoleProducer but neither
    // TopicCommand nor ConsoleConsumer (they live in the separate kafka-tools artifact), so topic
    // creation and consumption go through a small kafka-clients program run with Java's
    // single-file source launcher.
    const PROBE_SOURCE = String.raw`
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

public class SentinelKafkaProbe {
  static Properties adminProps(String brokers) {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    return p;
  }

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    String brokers = args[1];
    String topic = args[2];
    if (mode.equals("create")) {
      try (Admin admin = Admin.create(adminProps(brokers))) {
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
        System.out.println("created " + topic + " partitions=" + partitions);
      }
    } else if (mode.equals("consume")) {
      long deadline = System.currentTimeMillis() + Long.parseLong(args[3]);
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
      String group = "sentinel-smoke-" + topic;
      p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
      p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of(topic));
        String value = null;
        while (value == null && System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(250))) {
            value = r.value();
            consumer.commitSync();
            break;
          }
        }
        if (value == null) {
          System.err.println("no message on " + topic + " before the deadline");
          System.exit(3);
        }
        System.out.println(value);
      }
      // Best-effort clean-up so repeated runs do not pile up topics and groups on the local broker.
      try (Admin admin = Admin.create(adminProps(brokers))) {
        admin.deleteConsumerGroups(List.of(group)).all().get();
        admin.deleteTopics(List.of(topic)).all().get();
      } catch (Exception e) {
        System.err.println("clean-up failed: " + e);
      }
    } else {
      throw new IllegalArgumentException("unknown mode " + mode);
    }
  }
}
`;

    let workDir: string | undefined;

    afterAll(() => {
      if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
    });

    it("creates a topic, produces a message and consumes it back", { timeout: 60_000 }, async () => {
      const brokers = requireEnv("KAFKA_BROKERS");
      await probeTcp("the kafka broker", brokers.split(",")[0] ?? brokers);
      const libs = process.env.SENTINEL_KAFKA_LIBS ?? join(REPO_ROOT, ".services", "kafka", "libs");
      if (!existsSync(libs) || !readdirSync(libs).some((f) => /^kafka-clients-.*\.jar$/.test(f))) {
        throw new Error(`Kafka jars not found in ${libs} (${HINT})`);
      }
      const log4j =
        process.env.SENTINEL_KAFKA_LOG4J ?? join(REPO_ROOT, "deploy", "local", "kafka", "log4j.properties");
      const jvm = ["-Xmx256m", "-XX:TieredStopAtLevel=1", "-Xshare:auto", `-Dlog4j.configuration=file:${log4j}`];
      const cp = join(libs, "*");

      workDir = mkdtempSync(join(tmpdir(), "sentinel-kafka-smoke-"));
      const probe = join(workDir, "SentinelKafkaProbe.java");
      writeFileSync(probe, PROBE_SOURCE);

      const topic = `sentinel-smoke-${randomUUID()}`;
      const message = `hello from sentinel ${randomUUID()}`;

      const created = await run("java", [...jvm, "-cp", cp, probe, "create", brokers, topic], { timeoutMs: 30_000 });
      if (created.code !== 0) throw new Error(describeFailure("topic creation", created));
      expect(created.stdout).toContain(`created ${topic} partitions=1`);

      const produced = await run(
        "java",
        [
          ...jvm,
          "-cp",
          cp,
          "kafka.tools.ConsoleProducer",
          "--bootstrap-server",
          brokers,
          "--topic",
          topic,
          "--producer-property",
          "acks=all",
        ],
        { input: `${message}\n`, timeoutMs: 30_000 },
      );
      if (produced.code !== 0) throw new Error(describeFailure("kafka.tools.ConsoleProducer", produced));

      const consumed = await run("java", [...jvm, "-cp", cp, probe, "consume", brokers, topic, "20000"], {
        timeoutMs: 40_000,
      });
      if (consumed.code !== 0) throw new Error(describeFailure("consuming the message back", consumed));
      expect(consumed.stdout.trim()).toBe(message);
    });
  });
});
