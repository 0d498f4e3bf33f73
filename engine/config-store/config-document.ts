/**
 * The config document: the declarative config exactly as written (before `${VAR}` interpolation
 * and defaults), as JSON. It is what the store versions, what `sentinel export` prints and what
 * `sentinel apply` and every admin mutation write. Interpolation happens where the document is
 * used, so a variable names the value on each gateway and no value is ever stored.
 *
 * Validation is the file path's: the same parse, schema, semantic checks and compile
 * (load-config.ts, compile-config.ts), so a document the admin API accepts is one every gateway
 * with the same environment can publish.
 */
import { stringify } from "yaml";
import { configDigest } from "../audit/admin-change.js";
import { compileConfig, type RuntimeConfig } from "../config/compile-config.js";
import { parseConfig, readYaml, type LoadOptions } from "../config/load-config.js";
import type { SentinelConfig } from "../config/types.js";
import { SentinelConfigError } from "../errors.js";

/** A config as written: plain JSON, not yet interpolated or defaulted. */
export type ConfigDocument = Record<string, unknown>;

/** Parses YAML (or JSON) text into a document; syntax errors name the line and column. */
export function documentFromText(text: string, source: string): ConfigDocument {
  const value = readYaml(text, source);
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new SentinelConfigError(source, "", "must be object");
  // Through JSON once, so the document is exactly what the store will hand back.
  return JSON.parse(JSON.stringify(value)) as ConfigDocument;
}

/** The document as YAML; `documentFromText(documentToYaml(d))` deep-equals `d`. */
export const documentToYaml = (doc: ConfigDocument): string => stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });

/** Interpolates, defaults and validates a document (schema and semantics), as loading a file does. */
export const loadDocument = (doc: ConfigDocument, source: string, options: LoadOptions = {}): SentinelConfig =>
  parseConfig(JSON.stringify(doc), source, options);

/** Validates and compiles a document as a gateway would; throws SentinelConfigError with the path. */
export const compileDocument = (doc: ConfigDocument, source: string, options: LoadOptions = {}): RuntimeConfig =>
  compileConfig(loadDocument(doc, source, options), source);

export const validateDocument = (doc: ConfigDocument, source: string, options: LoadOptions = {}): SentinelConfig =>
  compileDocument(doc, source, options).source;

/** `sha256:<hex>` of the canonical document: what admin-change audit records carry as before/after. */
export const documentDigest = (doc: ConfigDocument): string => configDigest(doc as unknown as SentinelConfig);

export const cloneDocument = (doc: ConfigDocument): ConfigDocument => structuredClone(doc);
