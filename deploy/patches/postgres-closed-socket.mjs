#!/usr/bin/env node
/**
 * Repairs a crash in the `postgres` driver (3.4.x, no fixed release yet; upstream issues
 * porsager/postgres#1154 and #1208): a small write is deferred to a `setImmediate`, and when the
 * connection closes before it runs, `nextWrite` calls `socket.write` on `null`. The TypeError is
 * thrown from the immediate, so no caller can catch it and the process dies. For Sentinel that
 * means a Postgres outage (the audit store sink, the config store) kills the gateway, which is
 * exactly what a sink outage must never do. The teardown paths also cancel the immediate without
 * forgetting it, which leaves the connection unable to schedule another write.
 *
 * The repair, applied to both module builds of the driver after every install:
 * - `nextWrite` with no socket drops the buffered bytes and fails the connection's queries with
 *   CONNECTION_CLOSED (callers get a catchable error and retry), instead of throwing;
 * - `terminate` and `closed` forget the cancelled immediate and the bytes meant for the old socket.
 *
 * Idempotent; exits non-zero if the driver's code no longer has the expected shape, so an upgrade
 * that changes it is noticed rather than silently left unpatched.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const MARK = "/* sentinel: closed-socket guard */";
// The project root by default; a test passes a directory holding a copy of the driver instead.
const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const driver = join(root, "node_modules", "postgres");

const EDITS = [
  {
    what: "nextWrite without a socket",
    from: "  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n",
    to:
      "  function nextWrite(fn) {\n" +
      `    ${MARK}\n` +
      "    if (socket === null) {\n" +
      "      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n" +
      "      chunk = nextWriteTimer = null\n" +
      "      error(Errors.connection('CONNECTION_CLOSED', options))\n" +
      "      return false\n" +
      "    }\n" +
      "    const x = socket.write(chunk, fn)\n",
  },
  {
    what: "terminate forgets the cancelled write",
    from: "    clearImmediate(nextWriteTimer)\n    if (socket) {\n",
    to: "    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    if (socket) {\n",
  },
  {
    what: "closed forgets the cancelled write",
    from: "    clearImmediate(nextWriteTimer)\n    socket.removeListener('data', data)\n",
    to: "    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null\n    socket.removeListener('data', data)\n",
  },
];

if (!existsSync(driver)) process.exit(0); // not installed (yet): nothing to repair

let failed = false;
for (const build of ["src", "cjs/src"]) {
  const file = join(driver, build, "connection.js");
  let text = readFileSync(file, "utf8");
  if (text.includes(MARK)) continue;
  for (const edit of EDITS) {
    const at = text.indexOf(edit.from);
    if (at < 0 || text.indexOf(edit.from, at + 1) >= 0) {
      process.stderr.write(`postgres-closed-socket: ${file}: cannot apply "${edit.what}": the driver's code changed; review the patch\n`);
      failed = true;
      break;
    }
    text = text.slice(0, at) + edit.to + text.slice(at + edit.from.length);
  }
  if (!failed) writeFileSync(file, text);
}
process.exit(failed ? 1 : 0);
