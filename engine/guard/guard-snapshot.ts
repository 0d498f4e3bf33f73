/**
 * Content Guard pattern sets as the scan pool's workers see them: every tenant's ScanSpec, keyed
 * by its content hash (Safeguards.guardKey), encoded into the shared snapshot buffer the policy
 * pool uses too (engine/policy/snapshot.ts). The gateway publishes the set whenever its config
 * changes; a task names only the key and the generation it was posted under.
 *
 * Workers compile per key, on first use, and keep what they compiled across generations: a key
 * is a hash of the pattern sources, so a scanner compiled for it stays right for as long as the
 * key is published. When a publish drops a key, its scanner goes too.
 */
import type { SnapshotBuffer } from "../policy/snapshot.js";
import { Scanner, type ScanSpec } from "./scan.js";

export type GuardSpecs = ReadonlyMap<string, ScanSpec>;

export const encodeGuardSpecs = (specs: GuardSpecs): Uint8Array => new TextEncoder().encode(JSON.stringify([...specs]));

export class GuardSnapshotReader {
  /** The generation `specs` was read at; 0 before the first read. */
  private generation = 0;
  private specs = new Map<string, ScanSpec>();
  private readonly scanners = new Map<string, Scanner>();
  /** How many scanners this thread has compiled (tests check that a key compiles once). */
  compiled = 0;

  constructor(private readonly buffer: SnapshotBuffer) {}

  /**
   * The scanner for `key` as published at `generation` or later; undefined when the snapshot no
   * longer holds the key (a publish overtook a queued task, which then brings its spec along).
   */
  scanner(key: string, generation: number): Scanner | undefined {
    const known = this.scanners.get(key);
    if (known !== undefined) return known;
    // Tasks carry the generation they were posted under, so a worker reads the buffer only when
    // a publish happened since its last read: no Atomics on the common path.
    if (generation > this.generation) this.refresh();
    const spec = this.specs.get(key);
    return spec === undefined ? undefined : this.compile(key, spec);
  }

  /** A spec that came with its task rather than through the snapshot. */
  adopt(key: string, spec: ScanSpec): Scanner {
    return this.scanners.get(key) ?? this.compile(key, spec);
  }

  private compile(key: string, spec: ScanSpec): Scanner {
    const scanner = new Scanner(spec);
    this.compiled++;
    this.scanners.set(key, scanner);
    return scanner;
  }

  private refresh(): void {
    const view = this.buffer.read();
    if (view.generation === this.generation) return;
    this.specs = new Map(JSON.parse(new TextDecoder().decode(view.bytes)) as Array<[string, ScanSpec]>);
    this.generation = view.generation;
    for (const key of this.scanners.keys()) if (!this.specs.has(key)) this.scanners.delete(key);
  }
}
