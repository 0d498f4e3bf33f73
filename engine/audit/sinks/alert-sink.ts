/**
 * The alert router as an audit sink: it reads the spool like any sink, so alerts survive a crash
 * (at-least-once: an alert in flight at a crash is sent again, with the same alert id) and a
 * receiver outage backs up into the spool instead of into memory. A batch is acknowledged once
 * each of its alerts was delivered or dead-lettered.
 */
import { route, type CompiledRoute } from "../alerts/alert.js";
import type { AlertChannel } from "../alerts/channels.js";
import { appendDeadLetter } from "../alerts/dead-letter.js";
import { deliverAlert, type RetryPolicy } from "../alerts/deliver.js";
import type { AuditSink } from "../sink.js";

export interface AlertSinkOptions {
  readonly auditDir: string;
  readonly channels: ReadonlyMap<string, AlertChannel>;
  readonly routes: readonly CompiledRoute[];
  readonly retry: RetryPolicy;
  readonly log: (line: string) => void;
}

export function alertSink(options: AlertSinkOptions): AuditSink & { delivered: number; deadLettered: number } {
  const sink = {
    name: "alerts",
    delivered: 0,
    deadLettered: 0,
    async write(batch: Parameters<AuditSink["write"]>[0]) {
      const jobs = batch.flatMap(({ record }) => route(record, options.routes));
      await Promise.all(
        jobs.map(async ({ channel, alert }) => {
          const target = options.channels.get(channel)!;
          const result = await deliverAlert(target, alert, options.retry);
          if (result.ok) {
            sink.delivered++;
            return;
          }
          sink.deadLettered++;
          options.log(`alert ${alert.id} to ${channel} dead-lettered after ${result.attempts} attempts: ${result.error}`);
          appendDeadLetter(options.auditDir, { id: alert.id, channel, failedAt: new Date().toISOString(), attempts: result.attempts, error: result.error, alert });
        }),
      );
      return batch.length;
    },
  };
  return sink;
}
