/**
 * The Piscina worker that evaluates policy off the main thread. It reads the shared snapshot
 * (workerData.snapshot, a SharedArrayBuffer) and compiles its own evaluators when the
 * generation changes; results are plain objects, since Error subclasses and closures do not
 * survive postMessage.
 */
import { workerData } from "piscina";
import type { Decision } from "./compile-policy.js";
import { PolicySnapshotReader } from "./policy-snapshot.js";
import { SnapshotBuffer } from "./snapshot.js";
import { toPolicyInput, type PoolTask } from "./pool-task.js";

const reader = new PolicySnapshotReader(new SnapshotBuffer((workerData as { snapshot: SharedArrayBuffer }).snapshot));

export interface PoolResult {
  readonly generation: number;
  readonly decision: Decision;
}

export default function evaluate(task: PoolTask): PoolResult {
  const snapshot = reader.current();
  const policy = snapshot.policies.get(task.tenant);
  if (policy === undefined) {
    return {
      generation: snapshot.generation,
      decision: { action: "deny", ruleId: "default-deny", permitted: false, matched: [], micros: 0, reason: `tenant "${task.tenant}" has no policy in this snapshot` },
    };
  }
  return { generation: snapshot.generation, decision: policy.evaluate(toPolicyInput(task)) };
}
