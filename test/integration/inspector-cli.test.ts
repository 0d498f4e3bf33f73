/**
 * The MCP Inspector CLI (@modelcontextprotocol/inspector-cli, a devDependency) against the
 * gateway over Streamable HTTP, run as a child process exactly as a user would run it:
 *
 *   mcp-inspector-cli --cli http://127.0.0.1:<port>/mcp/everything --transport http \
 *     --header "Authorization: Bearer <key>" --method tools/call --tool-name echo --tool-arg message=hi
 *
 * The upstream is the reference server-everything over stdio. Notes on the CLI (1.0.3):
 * - the transport is guessed from the URL path (`…/mcp` → http, anything else → sse), and the
 *   gateway's paths are `/mcp/<connection>`, so `--transport http` is required;
 * - it prints the result as JSON on stdout and errors on stderr with exit code 1;
 * - it locates its own package.json with a path checked against the working directory but
 *   imported relative to its module, so it only starts when run from its build directory
 *   (or another directory whose parent holds a package.json).
 */
import { spawn } from "node:child_process";
import { delimiter, dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { packageBin } from "../support/package-bin.js";
import { allowAll, startTestGateway, type TestGateway } from "../support/gateway-harness.js";

const CLI_TIMEOUT_MS = 20_000;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json: unknown;
}

/** Runs the inspector CLI with a hard timeout; `json` is stdout parsed, when it parses. */
function runInspector(cliBin: string, args: string[]): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliBin, "--cli", ...args], {
      cwd: dirname(cliBin),
      // The CLI starts its worker as `node …` from PATH: make that this very Node.
      env: { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`inspector CLI did not finish within ${CLI_TIMEOUT_MS} ms\nargs: ${args.join(" ")}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, CLI_TIMEOUT_MS);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolvePromise({ code, stdout, stderr, json });
    });
  });
}

const textOf = (result: unknown): string =>
  (((result as { content?: unknown } | undefined)?.content ?? []) as Array<{ type: string; text?: string }>)
    .filter((c) => c.type === "text")
    .map((c) => c.text ?? "")
    .join("\n");

describe("MCP Inspector CLI against the gateway (Streamable HTTP)", () => {
  let cliBin = "";
  let gw: TestGateway | undefined;
  let url = "";
  let auth: string[] = [];

  /** Asserts a successful run and returns its JSON output. */
  const ok = (run: CliRun): unknown => {
    if (run.code !== 0 || run.json === undefined) {
      throw new Error(`inspector CLI failed (exit ${run.code})\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
    }
    return run.json;
  };

  beforeAll(async () => {
    cliBin = packageBin("@modelcontextprotocol/inspector-cli");
    const everything = packageBin("@modelcontextprotocol/server-everything");
    gw = await startTestGateway({
      connections: [{ name: "everything", transport: "stdio", command: process.execPath, args: [everything, "stdio"], cwd: dirname(everything) }],
      policies: [
        { id: "no-env", target: "mcp.tool", pattern: "get-env", action: "deny", description: "never leak the server environment" },
        {
          id: "image-for-carol",
          target: "mcp.tool",
          pattern: "get-tiny-image",
          action: "allow",
          conditions: [{ field: "user", op: "eq", value: "carol" }, { field: "role", op: "eq", value: "designer" }],
        },
        { id: "no-image-otherwise", target: "mcp.tool", pattern: "get-tiny-image", action: "deny" },
        ...allowAll,
      ],
    });
    url = gw.endpoint("everything");
    auth = ["--header", `Authorization: Bearer ${gw.key}`];
  });

  afterAll(async () => {
    await gw?.close();
  });

  it("tools/list returns the policy-filtered tool list as JSON", async () => {
    const out = ok(await runInspector(cliBin, [url, "--transport", "http", ...auth, "--method", "tools/list"])) as {
      tools: Array<{ name: string; inputSchema: unknown }>;
    };
    const names = out.tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["echo", "get-sum", "trigger-long-running-operation"]));
    expect(names).not.toContain("get-env");
    expect(names).not.toContain("get-tiny-image");
    expect(out.tools.find((t) => t.name === "echo")?.inputSchema).toMatchObject({ type: "object", properties: { message: { type: "string" } } });
  });

  it("tools/call with --tool-arg passes arguments through (strings and schema-converted numbers)", async () => {
    const echo = ok(
      await runInspector(cliBin, [url, "--transport", "http", ...auth, "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=hello from the inspector"]),
    );
    expect(textOf(echo)).toBe("Echo: hello from the inspector");

    const sum = ok(
      await runInspector(cliBin, [url, "--transport", "http", ...auth, "--method", "tools/call", "--tool-name", "get-sum", "--tool-arg", "a=19", "b=23"]),
    );
    expect(textOf(sum)).toBe("The sum of 19 and 23 is 42.");
  });

  it("identity headers given with --header reach the policy", async () => {
    const args = [url, "--transport", "http", ...auth, "--method", "tools/call", "--tool-name", "get-tiny-image"];
    const allowed = ok(
      await runInspector(cliBin, [...args, "--header", "X-Sentinel-User: carol", "--header", 'X-Sentinel-Metadata: {"role":"designer"}']),
    ) as { content: Array<{ type: string; mimeType?: string }> };
    expect(allowed.content.some((c) => c.type === "image" && c.mimeType === "image/png")).toBe(true);

    const wrongRole = await runInspector(cliBin, [...args, "--header", "X-Sentinel-User: carol", "--header", 'X-Sentinel-Metadata: {"role":"intern"}']);
    expect(wrongRole.code).toBe(1);
    expect(wrongRole.stderr).toContain("SENTINEL_POLICY_DENIED");
    expect(wrongRole.stderr).toContain("no-image-otherwise");
  });

  it("a denied tools/call fails with the gateway's refusal and exit code 1", async () => {
    const run = await runInspector(cliBin, [url, "--transport", "http", ...auth, "--method", "tools/call", "--tool-name", "get-env"]);
    expect(run.code).toBe(1);
    expect(run.json).toBeUndefined();
    expect(run.stderr).toContain("-32003");
    expect(run.stderr).toContain('SENTINEL_POLICY_DENIED: denied by rule "no-env"');
  });

  it("without the Authorization header the CLI cannot connect", async () => {
    const run = await runInspector(cliBin, [url, "--transport", "http", "--method", "tools/list"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Failed to connect to MCP server");
    expect(run.stderr).toContain("SENTINEL_AUTH_MISSING");

    const wrongKey = await runInspector(cliBin, [url, "--transport", "http", "--header", "Authorization: Bearer sk_sentinel_not-a-real-key", "--method", "tools/list"]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain("SENTINEL_AUTH_INVALID");
  });

  it("prompts/get and resources/read also work through the gateway", async () => {
    const prompt = ok(
      await runInspector(cliBin, [url, "--transport", "http", ...auth, "--method", "prompts/get", "--prompt-name", "args-prompt", "--prompt-args", "city=Porto"]),
    ) as { messages: Array<{ content: { text?: string } }> };
    expect(prompt.messages[0]?.content.text).toBe("What's weather in Porto?");

    const resource = ok(
      await runInspector(cliBin, [url, "--transport", "http", ...auth, "--method", "resources/read", "--uri", "demo://resource/dynamic/text/3"]),
    ) as { contents: Array<{ uri: string; text?: string }> };
    expect(resource.contents[0]?.uri).toBe("demo://resource/dynamic/text/3");
    expect(resource.contents[0]?.text).toMatch(/^Resource 3: /);
  });
});
