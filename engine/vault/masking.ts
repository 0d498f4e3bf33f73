/**
 * How a secret may be shown (masked: `ghp_•••8a4f`) and how one is removed from text and JSON
 * that is about to leave the gateway (scrubbing). The mask reveals at most the first and last
 * four characters, and only of secrets long enough that those eight are a small part of them.
 */

/** Values shorter than this are not scrubbed: replacing "1" or "true" everywhere would mangle answers. */
export const MIN_SCRUB_LENGTH = 6;

export function mask(secret: string): string {
  if (secret.length >= 24) return `${secret.slice(0, 4)}•••${secret.slice(-4)}`;
  if (secret.length >= 12) return `•••${secret.slice(-4)}`;
  return "•••";
}

export class Scrubber {
  /** Longest first, so a secret that contains another is replaced whole. */
  private readonly values: ReadonlyArray<readonly [string, string]>;

  constructor(values: Iterable<string>) {
    const unique = [...new Set(values)].filter((v) => v.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length);
    this.values = unique.map((v) => [v, mask(v)] as const);
  }

  get empty(): boolean {
    return this.values.length === 0;
  }

  text(s: string): string {
    let out = s;
    for (const [v, masked] of this.values) if (out.includes(v)) out = out.split(v).join(masked);
    return out;
  }

  /**
   * A JSON value with every string (keys included) scrubbed. Unchanged subtrees are returned as
   * they are, so the common case (no secret echoed) allocates nothing.
   */
  json<T>(value: T): T {
    if (this.values.length === 0) return value;
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === "string") return this.text(value);
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v = this.walk(value[i]);
        if (v !== value[i]) (copy ??= value.slice())[i] = v;
      }
      return copy ?? value;
    }
    if (value !== null && typeof value === "object") {
      let copy: Record<string, unknown> | undefined;
      for (const [k, v] of Object.entries(value)) {
        const key = this.text(k);
        const next = this.walk(v);
        if (key !== k || next !== v) {
          copy ??= { ...(value as Record<string, unknown>) };
          if (key !== k) delete copy[k];
          copy[key] = next;
        }
      }
      return copy ?? value;
    }
    return value;
  }
}
