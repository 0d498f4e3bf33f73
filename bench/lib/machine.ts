/**
 * How busy the machine was apart from the bench: on a small shared host another process (a
 * build, a test run) can take a core in the middle of a measurement and skew one target's
 * numbers. The aggregate CPU counters of /proc/stat, minus the CPU time of the bench's own
 * processes over the same window, give the share of the machine something else used.
 * Linux only; elsewhere the figure is simply absent.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";

/** Clock ticks per second of /proc/stat (USER_HZ, 100 on every mainstream Linux build). */
export const USER_HZ = 100;

export interface CpuTicks {
  /** Non-idle time of all CPUs, in microseconds (steal excluded). */
  readonly busyMicros: number;
  /** Time the hypervisor gave to other guests, in microseconds. */
  readonly stealMicros: number;
}

export function readMachineCpu(): CpuTicks | undefined {
  let line: string | undefined;
  try {
    line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
  } catch {
    return undefined;
  }
  if (line === undefined || !line.startsWith("cpu ")) return undefined;
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const toMicros = (ticks: number): number => (ticks * 1e6) / USER_HZ;
  return { busyMicros: toMicros(user + nice + system + irq + softirq), stealMicros: toMicros(steal) };
}

export interface BackgroundLoad {
  /** CPU used by processes other than the bench's, as a share of all CPUs over the window (0–1). */
  readonly otherShare: number;
  /** Hypervisor steal over the window, as a share of all CPUs (0–1). */
  readonly stealShare: number;
}

/** `ownMicros` is the CPU time the bench's own processes used between the two readings. */
export function backgroundLoad(before: CpuTicks | undefined, after: CpuTicks | undefined, ownMicros: number, elapsedMs: number): BackgroundLoad | undefined {
  if (before === undefined || after === undefined || elapsedMs <= 0) return undefined;
  const capacity = elapsedMs * 1000 * cpus().length;
  const other = Math.max(0, after.busyMicros - before.busyMicros - ownMicros);
  return {
    otherShare: Math.round((other / capacity) * 1000) / 1000,
    stealShare: Math.round(((after.stealMicros - before.stealMicros) / capacity) * 1000) / 1000,
  };
}
