/**
 * CPU time of processes the bench did not write: the peer proxies and the stdio upstreams they
 * (and Sentinel) spawn, one per session. Read from /proc, so Linux only; elsewhere the figures
 * are absent rather than wrong.
 */
import { readdirSync, readFileSync } from "node:fs";
import { USER_HZ } from "./machine.js";

/** User plus system CPU time of one process (all its threads), in microseconds. */
export function processCpuMicros(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: count fields after its end.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1e6) / USER_HZ : undefined;
}

/** Every live descendant of a process (children, grandchildren…). */
export function descendantPids(pid: number): number[] {
  const out: number[] = [];
  const visit = (parent: number): void => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      return;
    }
    for (const tid of tasks) {
      let children: string;
      try {
        children = readFileSync(`/proc/${parent}/task/${tid}/children`, "utf8");
      } catch {
        continue;
      }
      for (const child of children.split(" ")) {
        if (child === "") continue;
        out.push(Number(child));
        visit(Number(child));
      }
    }
  };
  visit(pid);
  return out;
}

/** CPU time of a process's live descendants, in microseconds; undefined where /proc is missing. */
export function descendantsCpuMicros(pid: number): number | undefined {
  if (processCpuMicros(pid) === undefined) return undefined;
  return descendantPids(pid).reduce((sum, child) => sum + (processCpuMicros(child) ?? 0), 0);
}
