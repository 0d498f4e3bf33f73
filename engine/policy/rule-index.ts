/**
 * The per-name candidate index: which rules could match a name, without testing every rule.
 *
 * Each brace alternative of a rule's glob is filed by its fixed ends: an exact name in a map;
 * otherwise by its literal prefix, or, when it starts with a wildcard, by its literal suffix,
 * in maps keyed by that text and grouped by its length; a pattern with neither (`*`, `?x*`) is
 * a candidate for every name. A lookup tries the name's prefix and suffix at each length some
 * rule uses — a handful of map lookups — so its cost grows with the number of distinct lengths
 * and of true candidates, not with the size of the policy. Candidates come back in rule order
 * (by position) with duplicates removed.
 */
import type { GlobShape } from "./glob.js";

/** Rules filed by a fixed text, looked up by the name's prefix or suffix of each used length. */
class AffixTable {
  private readonly byText = new Map<string, number[]>();
  private lengths: number[] = [];

  add(text: string, position: number): void {
    const list = this.byText.get(text);
    if (list !== undefined) list.push(position);
    else {
      this.byText.set(text, [position]);
      if (!this.lengths.includes(text.length)) this.lengths = [...this.lengths, text.length].sort((a, b) => a - b);
    }
  }

  collect(name: string, suffix: boolean, out: number[], n: number): number {
    for (const length of this.lengths) {
      if (length > name.length) break;
      const list = this.byText.get(suffix ? name.slice(name.length - length) : name.slice(0, length));
      if (list !== undefined) for (const p of list) out[n++] = p;
    }
    return n;
  }
}

export class RuleIndex {
  private readonly exact = new Map<string, number[]>();
  private readonly prefixes = new AffixTable();
  private readonly suffixes = new AffixTable();
  private readonly always: number[] = [];
  // Reused between lookups: evaluation runs to completion on one thread, never re-entered.
  private scratch: number[] = [];
  private view: number[] = [];

  /** Files rule `position` (its order in the policy) under each of its glob's shapes. */
  add(position: number, shapes: readonly GlobShape[]): void {
    for (const shape of shapes) {
      if (shape.exact !== undefined) {
        const list = this.exact.get(shape.exact);
        if (list === undefined) this.exact.set(shape.exact, [position]);
        else list.push(position);
      } else if (shape.prefix !== "") {
        this.prefixes.add(shape.prefix, position);
      } else if (shape.suffix !== "") {
        this.suffixes.add(shape.suffix, position);
      } else {
        this.always.push(position);
      }
    }
  }

  /** Rule positions that may match `name`, ascending. The array is reused: consume it at once. */
  candidates(name: string): readonly number[] {
    const out = this.scratch;
    let n = 0;
    const exact = this.exact.get(name);
    if (exact !== undefined) for (const p of exact) out[n++] = p;
    for (const p of this.always) out[n++] = p;
    n = this.prefixes.collect(name, false, out, n);
    n = this.suffixes.collect(name, true, out, n);
    // Candidate lists are usually short: an insertion sort in place beats allocating a sorted
    // copy. Long ones (many catch-all style patterns) take the library sort instead.
    if (n > 32) {
      const sorted = out.slice(0, n).sort((a, b) => a - b);
      for (let i = 0; i < n; i++) out[i] = sorted[i]!;
    }
    for (let i = 1; i < n; i++) {
      const v = out[i]!;
      let j = i - 1;
      while (j >= 0 && out[j]! > v) {
        out[j + 1] = out[j]!;
        j--;
      }
      out[j + 1] = v;
    }
    const view = this.view;
    let w = 0;
    for (let r = 0; r < n; r++) if (w === 0 || out[r] !== view[w - 1]) view[w++] = out[r]!;
    view.length = w;
    return view;
  }
}
