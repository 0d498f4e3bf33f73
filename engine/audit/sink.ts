/**
 * An audit sink: where spooled records are shipped (the store, Kafka, the alert router). A sink
 * is an object of optional named hooks around one required `write`; the shipper calls them and
 * owns retries, cursors and back-pressure, so a sink only has to say how far a batch got.
 */
import type { SpooledRecord } from "./spool-reader.js";

export interface AuditSink {
  /** Names the sink's cursor file and its metrics label; stable across restarts. */
  readonly name: string;
  /** Connects, creates schemas; a throw is retried like a failed write. */
  start?(): Promise<void>;
  /**
   * Delivers records in order and resolves with how many, from the first, the sink now holds
   * durably (all of them, or fewer when part of the batch failed). Redelivery after a crash is
   * possible, so a sink must be idempotent on (chain, seq). A throw counts as zero.
   */
  write(batch: readonly SpooledRecord[]): Promise<number>;
  /** Called after a failed write, before the backoff delay. */
  onError?(err: Error): void;
  close?(): Promise<void>;
}
