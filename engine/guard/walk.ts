/**
 * String (and, for scanning, number) leaves of JSON values: finding them, naming them (`arguments.user.cards[0]`), and
 * replacing them in place.
 */

export type PathSegment = string | number;

/** A parent-linked path, so walking allocates no arrays for leaves that have no matches. */
export interface PathNode {
  readonly parent: PathNode | undefined;
  readonly segment: PathSegment;
}

/**
 * Visits every string leaf, in document order. Iterative: a deeply nested payload must be
 * scanned all the way down, not overflow the stack and skip the rest. Object keys are not leaves.
 * With `numbers`, an integer leaf is visited as its decimal text (`String(n)`, which is also how
 * the gateway serialises it onward): a card number sent as a JSON number is still a card number.
 * Fractions are not: their digits (0.5482993035531534) pass a card's checks often enough to
 * turn ordinary amounts and probabilities into findings, and no identifier is written that way.
 */
export function walkStrings(root: unknown, visit: (text: string, node: PathNode | undefined) => void, numbers = false): void {
  const stack: Array<{ value: unknown; node: PathNode | undefined }> = [{ value: root, node: undefined }];
  while (stack.length > 0) {
    const { value, node } = stack.pop()!;
    if (typeof value === "string") visit(value, node);
    else if (typeof value === "number") {
      if (numbers && Number.isInteger(value)) visit(String(value), node);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], node: { parent: node, segment: i } });
    } else if (value !== null && typeof value === "object") {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push({ value: (value as Record<string, unknown>)[keys[i]!], node: { parent: node, segment: keys[i]! } });
      }
    }
  }
}

export function pathOf(node: PathNode | undefined): PathSegment[] {
  const path: PathSegment[] = [];
  for (let n = node; n !== undefined; n = n.parent) path.push(n.segment);
  return path.reverse();
}

/** The JSON key a leaf sits under (its own, or its array's), context for some validators. */
export function nearestKey(node: PathNode | undefined): string | undefined {
  for (let n = node; n !== undefined; n = n.parent) if (typeof n.segment === "string") return n.segment;
  return undefined;
}

/** `arguments.user.cards[0]`, with keys that are not identifiers quoted: `arguments["x-y"]`. */
export function formatPath(root: string, path: readonly PathSegment[]): string {
  let out = root;
  for (const s of path) {
    if (typeof s === "number") out += `[${s}]`;
    else out += /^[A-Za-z_$][\w$]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  }
  return out;
}

/**
 * Replaces the string at `path` inside `root` (mutating it) and returns the root; a path of
 * length 0 means the root itself is the string. The gateway owns the parsed objects it rewrites.
 */
export function replaceAt(root: unknown, path: readonly PathSegment[], value: string): unknown {
  if (path.length === 0) return value;
  let parent = root as Record<PathSegment, unknown>;
  for (let i = 0; i < path.length - 1; i++) parent = parent[path[i]!] as Record<PathSegment, unknown>;
  // Defined, not assigned: a key such as "__proto__" (an own property after JSON.parse) must be
  // replaced as data, never routed to a setter.
  Object.defineProperty(parent, path[path.length - 1]!, { value, writable: true, enumerable: true, configurable: true });
  return root;
}
