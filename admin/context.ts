/**
 * What a request of the admin API can reach: the store, the config versions, admin tokens and,
 * when the admin runs inside a gateway process (`sentinel start`), that gateway's live state.
 * Standalone (`sentinel admin`) there is no gateway: sessions and limit usage live in the gateway
 * processes and are reported as unavailable rather than guessed.
 */
import type { AuditLog } from "../engine/audit/audit-log.js";
import type { ConfigDocument } from "../engine/config-store/config-document.js";
import type { ConfigVersions } from "../engine/config-store/config-versions.js";
import type { Gateway } from "../engine/gateway/gateway.js";
import type { Store } from "../engine/store/store.js";
import type { Vault } from "../engine/vault/vault.js";
import type { AdminTokens, AdminRole } from "./admin-tokens.js";
import type { DecisionFeed } from "./feeds/decision-feed.js";

export interface AdminServices {
  readonly store: Store;
  readonly versions: ConfigVersions;
  readonly tokens: AdminTokens;
  readonly decisions: DecisionFeed;
  /** The gateway of this process, when there is one. */
  readonly gateway: Gateway | undefined;
  /** The vault holding credential secrets (the gateway's, or one on the admin's data dir). */
  readonly vault: Vault | undefined;
  /** Where admin changes are recorded; absent when audit is disabled. */
  readonly audit: AuditLog | undefined;
  readonly log: (line: string) => void;
  /** How often an open subscription checks that its token is still active (default 5 s). */
  readonly subscriptionRecheckMs?: number;
}

export interface AdminCaller {
  /** The admin token's id: audit records name it as `api:<id>`. */
  readonly id: string;
  readonly role: AdminRole;
  /** The one tenant the token may see; undefined for every tenant. */
  readonly tenant: string | undefined;
}

export interface AdminContext {
  readonly services: AdminServices;
  readonly caller: AdminCaller;
  /** The current document, read once per request (an empty config before the first apply). */
  readonly document: () => Promise<ConfigDocument>;
}
