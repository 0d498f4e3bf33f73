/**
 * The Piscina worker that scans large payloads off the event loop. It receives JSON text (one
 * string copy across threads, no structured clone of an object graph), parses it, and scans and
 * counts exactly what the main thread would. The pattern set does not travel with the task: the
 * task names its key, and the worker reads the set from the shared snapshot
 * (workerData.snapshot, guard-snapshot.ts), compiling its own RE2 objects, which cannot cross
 * threads. Results are plain objects: leaf paths and offsets, never the matched values.
 */
import { workerData } from "piscina";
import { SnapshotBuffer } from "../policy/snapshot.js";
import { GuardSnapshotReader } from "./guard-snapshot.js";
import type { LeafMatches, Scanner, ScanSpec } from "./scan.js";
import { countJsonTokens, encodingCounter, ESTIMATE, type EncodingName } from "./tokens.js";
import { walkStrings } from "./walk.js";

/** What a caller asks the pool for (ScanPool.run). */
export interface ScanTask {
  /** Identifies `spec` (its content hash, Safeguards.guardKey). */
  readonly specKey: string;
  /** Scan with these patterns; undefined: count only. It stays on the caller's thread. */
  readonly spec: ScanSpec | undefined;
  readonly json: string;
  /** Where the scanned value sits inside the parsed JSON (`["params", "arguments"]`). */
  readonly pick: readonly string[];
  /** Count the value's tokens with this counter. */
  readonly tokens: EncodingName | "estimate" | undefined;
  /**
   * Count each string in the value, not the value's JSON: a list of prompt texts (the LLM path),
   * the text of a sampling prompt (MCP).
   */
  readonly countEach?: boolean;
  /** With `countEach` over a list: only its first `countFirst` entries are counted; the rest are only scanned. */
  readonly countFirst?: number;
}

/** What crosses to the worker: the spec's key ("" to count only), not the spec. */
export interface PostedTask extends Omit<ScanTask, "spec"> {
  /** The snapshot generation the task was posted under. */
  readonly generation: number;
  /** Only when the snapshot no longer holds the key (a publish overtook the task). */
  readonly spec?: ScanSpec;
}

export interface ScanResult {
  readonly leaves: LeafMatches[];
  readonly tokens: number | undefined;
  /** The snapshot no longer holds the task's key; the pool posts it again with its spec. */
  readonly missingSpec?: true;
}

const reader = new GuardSnapshotReader(new SnapshotBuffer((workerData as { snapshot: SharedArrayBuffer }).snapshot));

export default function scan(task: PostedTask): ScanResult {
  let scanner: Scanner | undefined;
  if (task.specKey !== "") {
    scanner = task.spec === undefined ? reader.scanner(task.specKey, task.generation) : reader.adopt(task.specKey, task.spec);
    if (scanner === undefined) return { leaves: [], tokens: undefined, missingSpec: true };
  }
  let value: unknown = JSON.parse(task.json);
  for (const key of task.pick) value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  const leaves = scanner?.scanValue(value) ?? [];
  const counter = task.tokens === undefined ? undefined : task.tokens === "estimate" ? ESTIMATE : encodingCounter(task.tokens);
  if (counter === undefined) return { leaves, tokens: undefined };
  if (task.countEach !== true) return { leaves, tokens: countJsonTokens(value, counter) };
  let tokens = 0;
  const counted = task.countFirst === undefined || !Array.isArray(value) ? value : value.slice(0, task.countFirst);
  walkStrings(counted, (text) => (tokens += counter.count(text)));
  return { leaves, tokens };
}
