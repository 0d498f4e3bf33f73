/**
 * `npm run schema:admin`: prints the admin API's SDL to schema/admin.graphql (committed;
 * test/unit/admin-schema.test.ts fails when it is stale).
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { adminSdl } from "./schema.js";

export const ADMIN_SDL_PATH = resolve(import.meta.dirname, "../schema/admin.graphql");

writeFileSync(ADMIN_SDL_PATH, adminSdl());
process.stdout.write(`wrote ${ADMIN_SDL_PATH}\n`);
