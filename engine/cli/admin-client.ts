/**
 * The CLI's way into a data dir whose embedded store a running `sentinel start` holds: one
 * process owns a PGlite directory, so `apply`, `export` and the commands that read the live
 * config go through that process's admin API instead. `admin.json` in the data dir says where
 * it listens; the token is `--admin-token`, `SENTINEL_ADMIN_TOKEN`, or the demo owner token.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { adminEndpointPath, demoAdminTokenPath } from "./data-dir.js";

export class AdminClientError extends Error {
  override readonly name = "AdminClientError";
}

interface Endpoint {
  readonly url: string;
  readonly pid: number;
}

export function writeAdminEndpoint(dataDir: string, url: string): () => void {
  const file = adminEndpointPath(dataDir);
  writeFileSync(file, JSON.stringify({ url, pid: process.pid }) + "\n", { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

function endpoint(dataDir: string, holder: number): Endpoint {
  const file = adminEndpointPath(dataDir);
  if (!existsSync(file)) throw new AdminClientError(`the data dir's store is held by process ${holder}, which serves no admin API (${file} is missing)`);
  const found = JSON.parse(readFileSync(file, "utf8")) as Endpoint;
  if (found.pid !== holder) throw new AdminClientError(`the data dir's store is held by process ${holder}, but ${file} names process ${found.pid}`);
  return found;
}

function token(dataDir: string, given: string | undefined): string {
  const t = given ?? process.env.SENTINEL_ADMIN_TOKEN ?? (existsSync(demoAdminTokenPath(dataDir)) ? readFileSync(demoAdminTokenPath(dataDir), "utf8").trim() : undefined);
  if (t === undefined || t === "") throw new AdminClientError("give an admin token: --admin-token, SENTINEL_ADMIN_TOKEN, or the data dir's demo-admin-token");
  return t;
}

/** Runs one GraphQL operation against the admin API of the process holding the data dir. */
export async function adminRequest<T>(dataDir: string, holder: number, query: string, variables: Record<string, unknown>, adminToken?: string): Promise<T> {
  const { url } = endpoint(dataDir, holder);
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${token(dataDir, adminToken)}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (body.errors !== undefined && body.errors.length > 0) {
    const e = body.errors[0]!;
    throw new AdminClientError(`${url}: ${e.extensions?.code ?? "error"}: ${e.message}`);
  }
  if (body.data === undefined) throw new AdminClientError(`${url}: HTTP ${res.status} with no data`);
  return body.data;
}
