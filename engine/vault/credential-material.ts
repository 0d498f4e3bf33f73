/**
 * What a decrypted secret becomes on the wire, per credential type: the HTTP header(s) for
 * Streamable HTTP upstreams, the environment for stdio ones, and every form of the secret the
 * scrubber must look for in upstream answers (the raw value, a Basic header's base64, the
 * password inside a database URL, an OAuth access token).
 */
import type { CredentialConfig, CredentialType } from "../config/types.js";

export interface Material {
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly scrub: readonly string[];
}

const DEFAULT_TEMPLATE: Partial<Record<CredentialType, string>> = {
  bearer: "Bearer {secret}",
  "oauth-client-credentials": "Bearer {secret}",
  "api-key": "{secret}",
  "database-url": "{secret}",
};

/** The header a credential type writes when the config names none. */
export function headerName(config: CredentialConfig): string | undefined {
  if (config.header !== undefined) return config.header.toLowerCase();
  return config.type === "bearer" || config.type === "basic" || config.type === "oauth-client-credentials" ? "authorization" : undefined;
}

/** The variable a credential type sets for stdio upstreams when the config names none. */
export function envVarName(config: CredentialConfig): string | undefined {
  return config.envVar ?? (config.type === "database-url" ? "DATABASE_URL" : undefined);
}

/** `accessToken` is required for OAuth credentials: the header (or variable) carries the token, not the client secret. */
export function buildMaterial(config: CredentialConfig, secret: string, accessToken?: string): Material {
  const scrub = [secret];
  let headers: Record<string, string> | undefined;
  let env: Record<string, string> | undefined;
  const header = headerName(config);
  if (config.type === "env") {
    env = parseEnvSecret(secret);
    scrub.push(...Object.values(env));
  } else if (config.type === "basic") {
    const encoded = Buffer.from(`${config.username ?? ""}:${secret}`).toString("base64");
    headers = { [header!]: `Basic ${encoded}` };
    scrub.push(encoded);
  } else {
    const value = config.type === "oauth-client-credentials" ? accessToken : secret;
    if (value === undefined) throw new Error(`credential ${config.name}: no access token`);
    if (config.type === "oauth-client-credentials") scrub.push(value);
    if (header !== undefined) headers = { [header]: (config.template ?? DEFAULT_TEMPLATE[config.type]!).replace("{secret}", value) };
    if (config.type === "database-url") scrub.push(...urlPassword(secret));
  }
  const variable = envVarName(config);
  // An OAuth child gets the access token, never the client secret it was exchanged for.
  if (variable !== undefined && config.type !== "env") env = { [variable]: config.type === "oauth-client-credentials" ? accessToken! : secret };
  return { headers, env, scrub };
}

/** Why a secret cannot be used for a credential type, or undefined when it can. */
export function secretProblem(type: CredentialType, secret: string): string | undefined {
  if (secret === "") return "the secret is empty";
  if (type === "env") {
    try {
      const env = parseEnvSecret(secret);
      return Object.keys(env).length === 0 ? "an env secret needs at least one KEY=VALUE line" : undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }
  // A line break in a header value would let the secret smuggle a second header (or request).
  if (/[\r\n\0]/.test(secret)) return "the secret contains a line break or NUL; header values cannot carry those";
  if (type === "database-url") {
    try {
      if (!/^[a-z][a-z0-9+.-]*:$/.test(new URL(secret).protocol)) return "not a URL";
    } catch {
      return "a database-url secret must be a URL (postgres://user:password@host/db)";
    }
  }
  return undefined;
}

/** `KEY=VALUE` lines (blank lines and `#` comments ignored), or a JSON object of strings. */
export function parseEnvSecret(secret: string): Record<string, string> {
  const env: Record<string, string> = {};
  const trimmed = secret.trim();
  if (trimmed.startsWith("{")) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      // JSON.parse quotes the input in its message; the input is the secret.
      throw new Error("env secret: not a valid JSON object");
    }
    for (const [i, [k, v]] of Object.entries(parsed).entries()) {
      if (typeof v !== "string") throw new Error(`env secret: the value of entry ${i + 1} must be a string`);
      env[checkVar(k, `entry ${i + 1}`)] = v;
    }
    return env;
  }
  for (const [i, line] of trimmed.split(/\r?\n/).entries()) {
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`env secret: line ${i + 1} is not KEY=VALUE`);
    env[checkVar(line.slice(0, eq).trim(), `line ${i + 1}`)] = line.slice(eq + 1);
  }
  return env;
}

/** Errors name where in the secret the fault is, never its text: a typo'd line may be a secret value. */
function checkVar(name: string, where: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`env secret: ${where} does not start with a variable name (letters, digits, _)`);
  return name;
}

function urlPassword(secret: string): string[] {
  try {
    const raw = new URL(secret).password;
    return raw === "" ? [] : [raw, decodeURIComponent(raw)];
  } catch {
    return [];
  }
}
