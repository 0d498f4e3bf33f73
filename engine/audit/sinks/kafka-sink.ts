/**
 * Ships records to a Kafka topic through node-rdkafka (librdkafka): the SIEM feed.
 *
 * - Idempotent producer (`enable.idempotence`): librdkafka's own retries never duplicate or
 *   reorder a message within a partition.
 * - `message.timeout.ms = 0`: a message is retried until the broker takes it, so an outage delays
 *   delivery instead of failing it; a batch is acknowledged only by delivery reports, and the
 *   shipper does not read the next batch before then, which bounds what sits in librdkafka's
 *   queue and leaves the rest in the spool (back-pressure).
 * - Keyed by tenant (admin and checkpoint records by chain id), so one tenant's records keep
 *   their order in one partition; the value is the spooled JSON line (see README, "Kafka topic").
 */
import type KafkaModule from "node-rdkafka";
import type { Producer, ProducerGlobalConfig } from "node-rdkafka";
import type { AuditSink } from "../sink.js";

export interface KafkaSinkOptions {
  readonly brokers: string;
  readonly topic: string;
  /** Extra librdkafka properties (security, compression…). */
  readonly properties?: Readonly<Record<string, string | number | boolean>>;
}

export const kafkaKey = (r: { tenant?: string; chain: string }): string => r.tenant ?? `chain:${r.chain}`;

export function kafkaSink(options: KafkaSinkOptions): AuditSink {
  let producer: Producer | undefined;
  // Loaded on first use: a gateway without a Kafka sink never loads the native addon.
  let kafka: typeof KafkaModule | undefined;
  const waiting = new Map<number, (err: Error | null) => void>();
  let nextOpaque = 1;

  const connect = async (): Promise<Producer> => {
    kafka ??= (await import("node-rdkafka")).default;
    const Kafka = kafka;
    return new Promise<Producer>((resolve, reject) => {
      const p = new Kafka.Producer({
        "metadata.broker.list": options.brokers,
        "client.id": "sentinel-audit",
        "enable.idempotence": true,
        acks: -1,
        "message.timeout.ms": 0,
        "linger.ms": 5,
        "compression.codec": "lz4",
        dr_cb: true,
        "socket.keepalive.enable": true,
        ...options.properties,
      } as ProducerGlobalConfig);
      p.on("delivery-report", (err, report) => {
        const done = waiting.get(report.opaque as number);
        waiting.delete(report.opaque as number);
        done?.(err ? new Error(`kafka delivery failed: ${err.message}`) : null);
      });
      p.setPollInterval(20);
      p.connect({ timeout: 10_000 }, (err) => {
        if (err) {
          p.disconnect(() => undefined);
          reject(new Error(`kafka ${options.brokers}: ${err.message}`));
        } else resolve(p);
      });
    });
  };

  const produceOne = async (p: Producer, value: Buffer, key: string, timestamp: number): Promise<void> => {
    const opaque = nextOpaque++;
    const delivered = new Promise<void>((resolve, reject) => waiting.set(opaque, (err) => (err ? reject(err) : resolve())));
    for (;;) {
      try {
        p.produce(options.topic, null, value, key, timestamp, opaque);
        break;
      } catch (err) {
        // librdkafka's local queue is full: wait for deliveries to make room.
        if ((err as { code?: number }).code !== kafka!.CODES.ERRORS.ERR__QUEUE_FULL) {
          waiting.delete(opaque);
          throw err;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return delivered;
  };

  return {
    name: "kafka",
    async start() {
      producer ??= await connect();
    },
    async write(batch) {
      const p = producer ?? (producer = await connect());
      const results = await Promise.allSettled(
        batch.map(({ record, line }) => produceOne(p, Buffer.from(line, "utf8"), kafkaKey(record), Date.parse(record.time))),
      );
      const firstFailed = results.findIndex((r) => r.status === "rejected");
      if (firstFailed < 0) return batch.length;
      // Only a fatal producer error gets here (messages never time out). Acknowledge the
      // delivered prefix; the rest is resent by a fresh producer.
      const reason = (results[firstFailed] as PromiseRejectedResult).reason as Error;
      const old = producer;
      producer = undefined;
      old?.disconnect(() => undefined);
      if (firstFailed === 0) throw reason;
      return firstFailed;
    },
    async close() {
      const p = producer;
      producer = undefined;
      if (p === undefined) return;
      await new Promise<void>((resolve) => p.flush(5000, () => p.disconnect(() => resolve())));
    },
  };
}
