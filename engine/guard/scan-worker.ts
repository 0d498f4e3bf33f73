/**
 * The Piscina worker that scans large payloads off the event loop. It receives JSON text (one
 * string copy across threads, no structured clone of an object graph), parses it, and scans and
 * counts exactly what the main thread would. RE2 objects cannot cross threads, so each worker
 * compiles its own scanner from the pattern sources and keeps it per spec key. Results are plain
 * objects: leaf paths and offsets, never the matched values.
 */
import type { LeafMatches, ScanSpec } from "./scan.js";
import { Scanner } from "./scan.js";
import { countJsonTokens, encodingCounter, ESTIMATE, type EncodingName } from "./tokens.js";

export interface ScanTask {
  /** Identifies `spec`: a worker compiles each spec once. */
  readonly specKey: string;
  readonly spec: ScanSpec | undefined;
  readonly json: string;
  /** Where the scanned value sits inside the parsed JSON (`["params", "arguments"]`). */
  readonly pick: readonly string[];
  /** Count the value's tokens with this counter. */
  readonly tokens: EncodingName | "estimate" | undefined;
}

export interface ScanResult {
  readonly leaves: LeafMatches[];
  readonly tokens: number | undefined;
}

const scanners = new Map<string, Scanner>();
const KEEP = 16;

export default function scan(task: ScanTask): ScanResult {
  let value: unknown = JSON.parse(task.json);
  for (const key of task.pick) value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  let leaves: LeafMatches[] = [];
  if (task.spec !== undefined) {
    let scanner = scanners.get(task.specKey);
    if (scanner === undefined) {
      if (scanners.size >= KEEP) scanners.delete(scanners.keys().next().value!);
      scanners.set(task.specKey, (scanner = new Scanner(task.spec)));
    }
    leaves = scanner.scanValue(value);
  }
  const counter = task.tokens === undefined ? undefined : task.tokens === "estimate" ? ESTIMATE : encodingCounter(task.tokens);
  return { leaves, tokens: counter === undefined ? undefined : countJsonTokens(value, counter) };
}
