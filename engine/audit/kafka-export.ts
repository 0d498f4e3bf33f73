/**
 * Copies an audit topic to a file, one message value per line, for `sentinel audit verify
 * --source kafka-file`: a throwaway consumer group reads every partition from the earliest
 * offset up to the end each partition had when the export started.
 */
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import Kafka from "node-rdkafka";

/** librdkafka's RD_KAFKA_OFFSET_BEGINNING. */
const OFFSET_BEGINNING = -2;

export interface KafkaExportOptions {
  readonly brokers: string;
  readonly topic: string;
  readonly file: string;
  readonly timeoutMs: number;
}

export async function exportKafkaTopic(options: KafkaExportOptions): Promise<number> {
  const consumer = new Kafka.KafkaConsumer(
    {
      "metadata.broker.list": options.brokers,
      "group.id": `sentinel-export-${randomUUID()}`,
      "enable.auto.commit": false,
      "enable.partition.eof": true,
    },
    { "auto.offset.reset": "earliest" },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: options.timeoutMs }, (err) => (err ? reject(new Error(`kafka ${options.brokers}: ${err.message}`)) : resolve())));
  const out = createWriteStream(options.file, { mode: 0o600 });
  let count = 0;
  try {
    const meta = await new Promise<Kafka.Metadata>((resolve, reject) =>
      consumer.getMetadata({ topic: options.topic, timeout: options.timeoutMs }, (err, m) => (err ? reject(new Error(err.message)) : resolve(m))),
    );
    const partitions = meta.topics.find((t) => t.name === options.topic)?.partitions.map((p) => p.id) ?? [];
    if (partitions.length === 0) throw new Error(`topic ${options.topic} does not exist`);
    // The end of each partition now: what is exported is a snapshot, even while producers go on.
    const ends = new Map<number, number>();
    for (const p of partitions) {
      const w = await new Promise<Kafka.WatermarkOffsets>((resolve, reject) =>
        consumer.queryWatermarkOffsets(options.topic, p, options.timeoutMs, (err, offsets) => (err ? reject(new Error(err.message)) : resolve(offsets))),
      );
      ends.set(p, w.highOffset);
    }
    consumer.assign(partitions.map((partition) => ({ topic: options.topic, partition, offset: OFFSET_BEGINNING })));
    const open = new Set(partitions.filter((p) => (ends.get(p) ?? 0) > 0));
    const deadline = Date.now() + options.timeoutMs;
    while (open.size > 0) {
      if (Date.now() > deadline) throw new Error(`export timed out with partitions ${[...open].join(",")} unfinished`);
      const messages = await new Promise<Kafka.Message[]>((resolve, reject) => consumer.consume(500, (err, m) => (err ? reject(new Error(err.message)) : resolve(m))));
      for (const m of messages) {
        const end = ends.get(m.partition) ?? 0;
        if (m.offset >= end) {
          open.delete(m.partition);
          continue;
        }
        if (m.value !== null) {
          out.write(m.value.toString("utf8").trimEnd() + "\n");
          count++;
        }
        if (m.offset + 1 >= end) open.delete(m.partition);
      }
    }
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  return count;
}
