/**
 * The in-process decision stream: every sealed call record, published once it is in the spool,
 * so a subscriber (the admin API's GraphQL subscription) never sees a decision the audit trail
 * could still lose. Subscribers run synchronously on the flusher, after the write; one that
 * throws is removed rather than allowed to break the flusher.
 */
import type { AuditDecision, AuditRecord } from "./record.js";

export interface DecisionFilter {
  readonly tenant?: string;
  readonly decisions?: readonly AuditDecision[];
  readonly kinds?: readonly AuditRecord["kind"][];
}

type Listener = (record: AuditRecord) => void;

interface Subscription {
  readonly filter: DecisionFilter;
  readonly fn: Listener;
}

export const matchesFilter = (filter: DecisionFilter, r: AuditRecord): boolean =>
  (filter.kinds === undefined ? r.kind === "call" : filter.kinds.includes(r.kind)) &&
  (filter.tenant === undefined || r.tenant === filter.tenant) &&
  (filter.decisions === undefined || (r.decision !== undefined && filter.decisions.includes(r.decision)));

export class DecisionStream {
  private subs: Subscription[] = [];

  get subscriberCount(): number {
    return this.subs.length;
  }

  /** Returns the unsubscribe function. */
  subscribe(filter: DecisionFilter, fn: Listener): () => void {
    const sub = { filter, fn };
    this.subs = [...this.subs, sub];
    return () => {
      this.subs = this.subs.filter((s) => s !== sub);
    };
  }

  publish(records: readonly AuditRecord[]): void {
    // Copy-on-write list: a listener may unsubscribe while we iterate.
    const subs = this.subs;
    if (subs.length === 0) return;
    for (const r of records) {
      for (const s of subs) {
        if (!matchesFilter(s.filter, r)) continue;
        try {
          s.fn(r);
        } catch {
          this.subs = this.subs.filter((x) => x !== s);
        }
      }
    }
  }
}
