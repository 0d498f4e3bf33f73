/**
 * Alerts that could not be delivered, kept in the audit directory (`dead-letters.ndjson`) until
 * replayed. The file is append-only: a failed alert is one line, a successful replay appends a
 * `resolved` line rather than rewriting the file, so the gateway and `sentinel audit dead-letters
 * replay` can both write it at once without losing an entry.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Alert } from "./alert.js";

export interface DeadLetter {
  readonly id: string;
  readonly channel: string;
  readonly failedAt: string;
  readonly attempts: number;
  readonly error: string;
  readonly alert: Alert;
}

type Line = DeadLetter | { readonly resolved: string; readonly at: string };

export const deadLetterPath = (auditDir: string): string => join(auditDir, "dead-letters.ndjson");

export function appendDeadLetter(auditDir: string, entry: DeadLetter): void {
  appendFileSync(deadLetterPath(auditDir), JSON.stringify(entry) + "\n", { mode: 0o600 });
}

export function markResolved(auditDir: string, id: string): void {
  appendFileSync(deadLetterPath(auditDir), JSON.stringify({ resolved: id, at: new Date().toISOString() }) + "\n", { mode: 0o600 });
}

/** Unresolved dead letters, oldest first; the latest failure of an alert replaces earlier ones. */
export function listDeadLetters(auditDir: string): DeadLetter[] {
  const file = deadLetterPath(auditDir);
  if (!existsSync(file)) return [];
  const open = new Map<string, DeadLetter>();
  for (const text of readFileSync(file, "utf8").split("\n")) {
    if (text === "") continue;
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      continue; // a torn last line after a crash
    }
    if ("resolved" in line) open.delete(line.resolved);
    else {
      open.delete(line.id);
      open.set(line.id, line);
    }
  }
  return [...open.values()];
}
