/**
 * The policy snapshot, shared between threads through one SharedArrayBuffer.
 *
 * Layout: a header of Int32 words — the state word (generation × 2 + active half), the byte
 * length of half 0, of half 1 — then two byte regions of equal capacity. A publish writes the
 * inactive half and its length, then stores the new state word with Atomics, which orders it
 * after the plain byte writes; generation and active half change together in that one store,
 * so a reader can never pair one snapshot's bytes with another's generation. Readers never
 * lock: they load the state, copy the active half, and load the state again; if it moved, a
 * publish overtook them (it may have been rewriting the half they were copying) and they copy
 * again. So a reader sees one whole snapshot or retries; it never sees half of two.
 *
 * Threads compile what they read into their own objects (RE2 and closures cannot cross
 * threads) and recompile only when the generation changes: one Atomics.load per call.
 */

const STATE = 0;
const LENGTH = 1; // + half
const HEADER_BYTES = 16;

export interface SnapshotView {
  readonly generation: number;
  readonly bytes: Uint8Array;
}

export class SnapshotTooLargeError extends Error {
  override readonly name = "SnapshotTooLargeError";
}

export class SnapshotBuffer {
  readonly buffer: SharedArrayBuffer;
  private readonly header: Int32Array;
  private readonly halves: [Uint8Array, Uint8Array];

  /** A new buffer with room for snapshots of `capacity` bytes, or a view of an existing one. */
  constructor(source: number | SharedArrayBuffer) {
    this.buffer = typeof source === "number" ? new SharedArrayBuffer(HEADER_BYTES + 2 * source) : source;
    const capacity = (this.buffer.byteLength - HEADER_BYTES) / 2;
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError("not a snapshot buffer");
    this.header = new Int32Array(this.buffer, 0, 4);
    this.halves = [new Uint8Array(this.buffer, HEADER_BYTES, capacity), new Uint8Array(this.buffer, HEADER_BYTES + capacity, capacity)];
  }

  get capacity(): number {
    return this.halves[0].byteLength;
  }

  generation(): number {
    return Atomics.load(this.header, STATE) >> 1;
  }

  /** Writes a new snapshot and makes it current; returns its generation. Single writer only. */
  publish(bytes: Uint8Array): number {
    if (bytes.byteLength > this.capacity) {
      throw new SnapshotTooLargeError(`snapshot of ${bytes.byteLength} bytes exceeds the buffer's ${this.capacity}`);
    }
    const state = Atomics.load(this.header, STATE);
    const target = 1 - (state & 1);
    const generation = (state >> 1) + 1;
    this.halves[target]!.set(bytes);
    Atomics.store(this.header, LENGTH + target, bytes.byteLength);
    Atomics.store(this.header, STATE, generation * 2 + target);
    return generation;
  }

  /** A private copy of the current snapshot. */
  read(): SnapshotView {
    for (;;) {
      const state = Atomics.load(this.header, STATE);
      const active = state & 1;
      const length = Atomics.load(this.header, LENGTH + active);
      const bytes = this.halves[active]!.slice(0, length);
      if (Atomics.load(this.header, STATE) === state) return { generation: state >> 1, bytes };
    }
  }
}
