/**
 * The per-name candidate index: which rules could match a name, without testing every rule.
 *
 * Each brace alternative of a rule's glob is filed by its fixed ends: an exact name in a map;
 * otherwise by its literal prefix in a character trie, or, when it starts with a wildcard, by
 * its literal suffix in a reversed trie; a pattern with neither (`*`, `?x*`) is a candidate for
 * every name. A lookup walks the name once forwards and once backwards, so its cost grows with
 * the name's length and the number of true candidates, not with the size of the policy.
 * Candidates come back in rule order (by position) with duplicates removed.
 */
import type { GlobShape } from "./glob.js";

interface TrieNode {
  readonly next: Map<number, TrieNode>;
  readonly rules: number[];
}

const node = (): TrieNode => ({ next: new Map(), rules: [] });

export class RuleIndex {
  private readonly exact = new Map<string, number[]>();
  private readonly prefixes = node();
  private readonly suffixes = node();
  private readonly always: number[] = [];
  // Reused between lookups: evaluation runs to completion on one thread, never re-entered.
  private readonly scratch: number[] = [];

  /** Files rule `position` (its order in the policy) under each of its glob's shapes. */
  add(position: number, shapes: readonly GlobShape[]): void {
    for (const shape of shapes) {
      if (shape.exact !== undefined) {
        const list = this.exact.get(shape.exact);
        if (list === undefined) this.exact.set(shape.exact, [position]);
        else list.push(position);
      } else if (shape.prefix !== "") {
        insert(this.prefixes, shape.prefix, false).rules.push(position);
      } else if (shape.suffix !== "") {
        insert(this.suffixes, shape.suffix, true).rules.push(position);
      } else {
        this.always.push(position);
      }
    }
  }

  /** Rule positions that may match `name`, ascending. The array is reused: consume it at once. */
  candidates(name: string): readonly number[] {
    const out = this.scratch;
    out.length = 0;
    const exact = this.exact.get(name);
    if (exact !== undefined) for (const p of exact) out.push(p);
    for (const p of this.always) out.push(p);
    collect(this.prefixes, name, false, out);
    collect(this.suffixes, name, true, out);
    if (out.length > 1) {
      out.sort((a, b) => a - b);
      let w = 1;
      for (let r = 1; r < out.length; r++) if (out[r] !== out[w - 1]) out[w++] = out[r]!;
      out.length = w;
    }
    return out;
  }
}

function insert(root: TrieNode, text: string, reversed: boolean): TrieNode {
  let n = root;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(reversed ? text.length - 1 - k : k);
    let child = n.next.get(c);
    if (child === undefined) n.next.set(c, (child = node()));
    n = child;
  }
  return n;
}

function collect(root: TrieNode, name: string, reversed: boolean, out: number[]): void {
  let n: TrieNode | undefined = root;
  for (let k = 0; k < name.length && n !== undefined; k++) {
    n = n.next.get(name.charCodeAt(reversed ? name.length - 1 - k : k));
    if (n !== undefined) for (const p of n.rules) out.push(p);
  }
}
