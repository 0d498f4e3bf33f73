/**
 * Where live decisions come from. Inside a gateway process: the audit log's decision stream,
 * which publishes a record once it is in the spool, so a subscriber never sees a decision the
 * audit trail could still lose. In a standalone admin: Postgres NOTIFY on `sentinel_decisions`,
 * sent by the store sink of every gateway in the same transaction that stores the records
 * (engine/audit/sinks/store-sink.ts); those carry a summary, not the whole record.
 */
import type { AuditLog } from "../../engine/audit/audit-log.js";
import type { AuditRecord } from "../../engine/audit/record.js";
import { DECISION_CHANNEL } from "../../engine/audit/sinks/store-sink.js";
import type { Store } from "../../engine/store/store.js";

/** A call record, whole (in process) or as the NOTIFY summary (across processes). */
export type DecisionEvent = Pick<AuditRecord, "id" | "time" | "chain" | "seq"> &
  Partial<Pick<AuditRecord, "tenant" | "user" | "role" | "session" | "connection" | "method" | "target" | "name" | "decision" | "ruleId" | "reasons" | "outcome">>;

export interface DecisionFeed {
  readonly source: "in-process" | "postgres" | "none";
  subscribe(fn: (event: DecisionEvent) => void): () => void;
  close(): Promise<void>;
}

export function inProcessDecisions(audit: AuditLog | undefined): DecisionFeed {
  if (audit === undefined) return { source: "none", subscribe: () => () => undefined, close: async () => undefined };
  return {
    source: "in-process",
    subscribe: (fn) => audit.decisions.subscribe({}, fn),
    close: async () => undefined,
  };
}

export async function postgresDecisions(store: Store, log: (line: string) => void): Promise<DecisionFeed> {
  let listeners: ReadonlyArray<(event: DecisionEvent) => void> = [];
  const stop = await store.listen(DECISION_CHANNEL, (payload) => {
    let event: DecisionEvent;
    try {
      event = JSON.parse(payload) as DecisionEvent;
    } catch {
      log(`decision feed: ignored a malformed ${DECISION_CHANNEL} notification`);
      return;
    }
    for (const fn of listeners) fn(event);
  });
  return {
    source: "postgres",
    subscribe(fn) {
      listeners = [...listeners, fn];
      return () => (listeners = listeners.filter((l) => l !== fn));
    },
    close: stop,
  };
}
