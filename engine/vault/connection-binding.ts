/** A connection's credential and its tool → required-scope table, compiled when a config is published. */
import { canonicalName } from "../policy/canonical.js";
import type { GlobMatcher } from "../policy/glob.js";
import type { LiveCredential } from "./live-credential.js";
import type { Scope } from "./scopes.js";

export class ConnectionBinding {
  constructor(
    readonly credential: LiveCredential,
    private readonly table: ReadonlyArray<{ readonly tool: GlobMatcher; readonly scope: Scope }>,
  ) {}

  /** The scope a tool needs: first matching entry wins; names are canonicalised like policy's. */
  requiredScope(tool: string): Scope | undefined {
    if (this.table.length === 0) return undefined;
    const name = canonicalName(tool);
    for (const entry of this.table) if (entry.tool.match(name)) return entry.scope;
    return undefined;
  }
}

