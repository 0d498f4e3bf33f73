/**
 * Serves the admin API: graphql-yoga over node:http at /graphql (default 127.0.0.1:8081),
 * GraphiQL (assets bundled, nothing fetched from elsewhere) for a browser GET of the same
 * path, and subscriptions over SSE.
 *
 * Order of the request checks, and why:
 * 1. Host: on a loopback address only loopback Host names are served (DNS rebinding).
 * 2. The GraphiQL page itself is static and needs no token; the operations it sends do.
 * 3. Every other request needs an active admin token, checked before anything is parsed, so
 *    an unauthenticated client cannot even introspect the schema.
 * Errors a resolver did not raise on purpose are masked to SENTINEL_INTERNAL with no message
 * or stack; the log line keeps the detail. Errors of a request carrying a credential's secret
 * never quote it (secret-inputs.ts).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { GraphQLError } from "graphql";
import { createYoga, type Plugin } from "graphql-yoga";
import { bearerToken } from "../engine/auth/api-keys.js";
import { ERRORS } from "../engine/errors.js";
import type { ConfigDocument } from "../engine/config-store/config-document.js";
import { EMPTY_DOCUMENT } from "./config-mutation.js";
import type { AdminCaller, AdminContext, AdminServices } from "./context.js";
import { adminSchema } from "./schema.js";
import { secretInputsPlugin } from "./secret-inputs.js";

export const ADMIN_PATH = "/graphql";
export const ADMIN_DEFAULT_PORT = 8081;

export interface AdminServerOptions {
  readonly host: string;
  readonly port: number;
  readonly services: AdminServices;
}

export interface RunningAdmin {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);
const isLoopback = (host: string) => LOOPBACK_NAMES.has(host) || host.startsWith("127.");

function refusal(code: "SENTINEL_ADMIN_UNAUTHENTICATED" | "SENTINEL_ADMIN_FORBIDDEN", message: string): Response {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (code === "SENTINEL_ADMIN_UNAUTHENTICATED") headers["www-authenticate"] = 'Bearer realm="sentinel-admin"';
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), { status: ERRORS[code].http, headers });
}

/** The checks that run before yoga parses anything; the caller they establish feeds the context. */
function gatePlugin(services: AdminServices, checkHost: boolean, callers: WeakMap<Request, AdminCaller>): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (checkHost) {
        const hostname = (request.headers.get("host") ?? "").replace(/:\d+$/, "");
        if (!isLoopback(hostname)) return endResponse(refusal("SENTINEL_ADMIN_FORBIDDEN", `Host "${hostname}" is not served on a loopback address`));
      }
      if (url.pathname !== ADMIN_PATH) return;
      const wantsPage = request.method === "GET" && (request.headers.get("accept") ?? "").includes("text/html") && !url.searchParams.has("query");
      if (wantsPage) return;
      const token = bearerToken(request.headers.get("authorization") ?? "");
      if (token === undefined) return endResponse(refusal("SENTINEL_ADMIN_UNAUTHENTICATED", "send Authorization: Bearer <admin token>"));
      const record = await services.tokens.verify(token);
      if (record === undefined) return endResponse(refusal("SENTINEL_ADMIN_UNAUTHENTICATED", "unknown or revoked admin token"));
      callers.set(request, { id: record.id, role: record.role, tenant: record.tenant });
    },
  };
}

const isGraphQLError = (e: unknown): e is GraphQLError => e instanceof Error && e.name === "GraphQLError";

export async function startAdminServer(options: AdminServerOptions): Promise<RunningAdmin> {
  const { services } = options;
  const callers = new WeakMap<Request, AdminCaller>();
  const yoga = createYoga<{ req: IncomingMessage; res: ServerResponse }, AdminContext>({
    schema: adminSchema(),
    graphqlEndpoint: ADMIN_PATH,
    landingPage: false,
    cors: false,
    batching: false,
    logging: false,
    graphiql: { title: "Sentinel admin", headers: '{ "Authorization": "Bearer <admin token: .sentinel/demo-admin-token>" }' },
    renderGraphiQL,
    plugins: [gatePlugin(services, isLoopback(options.host), callers), secretInputsPlugin()],
    context: ({ request }) => {
      const caller = callers.get(request);
      // The gate plugin sets the caller for every operation; none reaches here without one.
      if (caller === undefined) throw new GraphQLError("unauthenticated", { extensions: { code: "SENTINEL_ADMIN_UNAUTHENTICATED" } });
      let doc: Promise<ConfigDocument> | undefined;
      return { services, caller, document: () => (doc ??= services.versions.current().then((v) => v?.document ?? EMPTY_DOCUMENT)) };
    },
    maskedErrors: {
      maskError(error) {
        // By name, not instanceof: graphql can be loaded twice (its CJS and ESM builds), and an
        // error made by one copy is not an instance of the other's class.
        const original = isGraphQLError(error) ? error.originalError : error;
        if (original == null || isGraphQLError(original)) return error as Error;
        const id = randomUUID();
        services.log(`admin: internal error ${id}: ${(original as Error).stack ?? String(original)}`);
        return new GraphQLError(`internal error (${id})`, {
          path: isGraphQLError(error) ? error.path : undefined,
          extensions: { code: "SENTINEL_INTERNAL", status: 500 },
        });
      },
    },
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}${ADMIN_PATH}`,
    port,
    async close() {
      // Subscription streams hold their connections open: end them rather than wait.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await yoga.dispose();
    },
  };
}
