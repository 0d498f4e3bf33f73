/**
 * Server scenarios of @modelcontextprotocol/conformance 0.1.16 (the pinned version), in the
 * order the suite runs them. "active" is the suite's default set; "pending" scenarios only
 * run with `--suite all` or `--suite pending`.
 */
export const CONFORMANCE_VERSION = "0.1.16";

export const ACTIVE_SERVER_SCENARIOS = [
  "server-initialize",
  "logging-set-level",
  "ping",
  "completion-complete",
  "tools-list",
  "tools-call-simple-text",
  "tools-call-image",
  "tools-call-audio",
  "tools-call-embedded-resource",
  "tools-call-mixed-content",
  "tools-call-with-logging",
  "tools-call-error",
  "tools-call-with-progress",
  "tools-call-sampling",
  "tools-call-elicitation",
  "elicitation-sep1034-defaults",
  "server-sse-multiple-streams",
  "elicitation-sep1330-enums",
  "resources-list",
  "resources-read-text",
  "resources-read-binary",
  "resources-templates-read",
  "resources-subscribe",
  "resources-unsubscribe",
  "prompts-list",
  "prompts-get-simple",
  "prompts-get-with-args",
  "prompts-get-embedded-resource",
  "prompts-get-with-image",
  "dns-rebinding-protection",
] as const;

/** Marked pending upstream (not in the default suite). */
export const PENDING_SERVER_SCENARIOS = ["json-schema-2020-12", "server-sse-polling"] as const;

export type Suite = "active" | "all" | "pending";

export function expectedScenarios(suite: Suite): string[] {
  switch (suite) {
    case "active":
      return [...ACTIVE_SERVER_SCENARIOS];
    case "pending":
      return [...PENDING_SERVER_SCENARIOS];
    case "all":
      return [...ACTIVE_SERVER_SCENARIOS, ...PENDING_SERVER_SCENARIOS];
  }
}
