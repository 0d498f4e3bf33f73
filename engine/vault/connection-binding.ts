/**
 * A connection's credential and its required-scope tables (tool, resource and prompt globs →
 * scope), compiled when a config is published.
 */
import type { RequiredScopeConfig } from "../config/types.js";
import { canonicalName } from "../policy/canonical.js";
import { compileGlob, type GlobMatcher } from "../policy/glob.js";
import type { LiveCredential } from "./live-credential.js";
import { parseScope, type Scope } from "./scopes.js";

/** What a required scope guards: tools by name, resources by URI, prompts by name. */
export type ScopeKind = "tool" | "resource" | "prompt";

interface Entry {
  readonly pattern: GlobMatcher;
  readonly scope: Scope;
}

/** Which kind a config entry names, and its glob (the schema guarantees exactly one). */
export function scopeTarget(entry: RequiredScopeConfig): { kind: ScopeKind; pattern: string } {
  if (entry.resource !== undefined) return { kind: "resource", pattern: entry.resource };
  if (entry.prompt !== undefined) return { kind: "prompt", pattern: entry.prompt };
  return { kind: "tool", pattern: entry.tool! };
}

export class ConnectionBinding {
  private readonly tables: Readonly<Record<ScopeKind, readonly Entry[]>>;

  constructor(
    readonly credential: LiveCredential,
    entries: readonly RequiredScopeConfig[],
  ) {
    const tables: Record<ScopeKind, Entry[]> = { tool: [], resource: [], prompt: [] };
    for (const e of entries) {
      const { kind, pattern } = scopeTarget(e);
      tables[kind].push({ pattern: compileGlob(pattern), scope: parseScope(e.scope) });
    }
    this.tables = tables;
  }

  /**
   * The scope a tool (or a resource URI, or a prompt) needs: the first matching entry of its
   * kind wins. Names are canonicalised like policy's, so a look-alike spelling cannot slip past.
   */
  requiredScope(name: string, kind: ScopeKind = "tool"): Scope | undefined {
    const table = this.tables[kind];
    if (table.length === 0) return undefined;
    const canonical = canonicalName(name);
    for (const entry of table) if (entry.pattern.match(canonical)) return entry.scope;
    return undefined;
  }

  /** Whether any entry guards this kind: lists of an unguarded kind need no filtering. */
  guards(kind: ScopeKind): boolean {
    return this.tables[kind].length > 0;
  }
}
