/**
 * A sub-millisecond send clock for open-loop load.
 *
 * Node's timers fire at 1 ms granularity at best (and usually later), far too coarse for a
 * schedule of one request per millisecond whose latencies are a few hundred microseconds:
 * measured from the intended send time, the generator's own lateness would dominate every
 * percentile. So the schedule is kept by a small worker thread that sleeps in Atomics.wait —
 * a futex with a sub-millisecond timeout, no spinning, no CPU taken from the processes under
 * test — and posts "requests from..to are due" to the main thread, whose event loop wakes
 * for the message as it would for a socket. The main thread still does all the sending, so
 * its own delays (busy handling answers) remain part of the corrected latency, as they must.
 *
 * Both threads read the same monotonic clock (process.hrtime), in milliseconds.
 */
import { Worker } from "node:worker_threads";

export const clockMillis = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface Pacer {
  /** Resolves when every tick has been delivered (or the pacer was stopped). */
  readonly finished: Promise<void>;
  stop(): void;
}

// Plain JavaScript: an eval'd worker runs as CommonJS without the TypeScript loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { total, interval, control } = workerData;
const flag = new Int32Array(control);
const now = () => Number(process.hrtime.bigint()) / 1e6;
parentPort.once("message", (start) => {
  let next = 0;
  while (next < total && Atomics.load(flag, 0) === 0) {
    const t = now();
    const due = Math.min(total, Math.floor((t - start) / interval) + 1);
    if (due > next) {
      parentPort.postMessage([next, due]);
      next = due;
      continue;
    }
    Atomics.wait(flag, 0, 0, start + next * interval - t);
  }
  parentPort.postMessage("done");
});
parentPort.postMessage("ready");
`;

/**
 * Starts a schedule of `total` ticks, `interval` ms apart, from a start time shortly after the
 * worker is up; calls `onDue(index, intendedMillis)` for each tick on the main thread.
 */
export async function startPacer(total: number, interval: number, onDue: (index: number, intended: number) => void): Promise<Pacer> {
  const control = new SharedArrayBuffer(4);
  const flag = new Int32Array(control);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { total, interval, control } });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  const start = clockMillis() + 1;
  const finished = new Promise<void>((resolve, reject) => {
    worker.on("message", (message: unknown) => {
      if (message === "done") {
        void worker.terminate();
        resolve();
        return;
      }
      const [from, to] = message as [number, number];
      for (let i = from; i < to; i++) onDue(i, start + i * interval);
    });
    worker.once("error", reject);
  });
  worker.postMessage(start);
  return {
    finished,
    stop() {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    },
  };
}
