/**
 * Audit metrics in the Prometheus text format, appended to the gateway's /metrics.
 */
import type { AuditLog } from "./audit-log.js";

export function auditMetrics(audit: AuditLog | undefined): string {
  if (audit === undefined) return "";
  const c = audit.counters;
  const lines = [
    "# HELP sentinel_audit_records_total Audit records, by stage: emitted by the pipeline, written to the spool.",
    "# TYPE sentinel_audit_records_total counter",
    `sentinel_audit_records_total{stage="emitted"} ${c.emitted}`,
    `sentinel_audit_records_total{stage="written"} ${c.written}`,
    "# HELP sentinel_audit_checkpoints_total Signed checkpoints written.",
    "# TYPE sentinel_audit_checkpoints_total counter",
    `sentinel_audit_checkpoints_total ${c.checkpoints}`,
    "# HELP sentinel_audit_fsyncs_total Background fsyncs of the spool (audit.spool.syncIntervalMs apart at most, unless an answer waits on one).",
    "# TYPE sentinel_audit_fsyncs_total counter",
    `sentinel_audit_fsyncs_total ${c.syncs}`,
    "# HELP sentinel_audit_write_errors_total Failed spool writes and fsyncs (records are held and retried).",
    "# TYPE sentinel_audit_write_errors_total counter",
    `sentinel_audit_write_errors_total ${c.writeErrors}`,
    "# HELP sentinel_audit_spool_bytes Bytes in the spool's segment files.",
    "# TYPE sentinel_audit_spool_bytes gauge",
    `sentinel_audit_spool_bytes ${audit.spool.bytes}`,
    "# HELP sentinel_audit_accepting 1 while the spool takes records; 0 while calls are refused with SENTINEL_AUDIT_UNAVAILABLE.",
    "# TYPE sentinel_audit_accepting gauge",
    `sentinel_audit_accepting ${audit.accepting ? 1 : 0}`,
    "# HELP sentinel_audit_chain_seq The seq of the last record sealed, written and fsynced.",
    "# TYPE sentinel_audit_chain_seq gauge",
    `sentinel_audit_chain_seq{state="sealed"} ${audit.chainHead.seq}`,
    `sentinel_audit_chain_seq{state="written"} ${audit.spool.writtenSeq}`,
    `sentinel_audit_chain_seq{state="synced"} ${audit.spool.syncedSeq}`,
    "# HELP sentinel_audit_sink_lag_records Synced records a sink does not hold yet.",
    "# TYPE sentinel_audit_sink_lag_records gauge",
    ...audit.shippers.map((s) => `sentinel_audit_sink_lag_records{sink="${s.sink.name}"} ${s.lag}`),
    "# HELP sentinel_audit_sink_up 0 while a sink's last attempt failed.",
    "# TYPE sentinel_audit_sink_up gauge",
    ...audit.shippers.map((s) => `sentinel_audit_sink_up{sink="${s.sink.name}"} ${s.failures === 0 ? 1 : 0}`),
  ];
  return lines.join("\n") + "\n";
}
