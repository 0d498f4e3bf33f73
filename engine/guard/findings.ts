/**
 * Findings as the gateway reports them: pattern, placeholder type, action, JSON path and UTF-16
 * offsets in the original string. Never the matched value: findings go into refusal reasons,
 * diagnostics and audit records, none of which may carry the data they protect.
 */
import { channel } from "node:diagnostics_channel";
import type { LeafMatches, ScanPattern } from "./scan.js";
import { formatPath } from "./walk.js";

export interface Finding {
  readonly id: string;
  readonly label: string;
  readonly action: string;
  readonly path: string;
  readonly start: number;
  readonly end: number;
}

/** Published for every call with findings, request or result (audit and alert sinks subscribe). */
export const findingsChannel = channel("sentinel:guard:findings");

/** `root` names the scanned value: `arguments` or `result`. */
export function toFindings(root: string, leaves: readonly LeafMatches[], patterns: readonly ScanPattern[]): Finding[] {
  return leaves.flatMap((leaf) =>
    leaf.matches.map((m) => {
      const p = patterns[m.pattern]!;
      return { id: p.id, label: p.label, action: p.action, path: formatPath(root, leaf.path), start: m.start, end: m.end };
    }),
  );
}

export function describeFindings(findings: readonly Finding[]): string {
  const shown = findings.slice(0, 3).map((f) => `${f.id} at ${f.path} [${f.start}, ${f.end})`);
  return findings.length > 3 ? `${shown.join(", ")} and ${findings.length - 3} more` : shown.join(", ");
}
