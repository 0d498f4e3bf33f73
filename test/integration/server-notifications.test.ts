import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ResourceListChangedNotificationSchema, ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowAll, connectClient, REPO_ROOT, startTestGateway, type TestGateway } from "../support/gateway-harness.js";

const FIXTURE = resolve(REPO_ROOT, "test/fixtures/notifying-server.ts");

describe.each(["http", "stdio"] as const)("unsolicited server notifications over a %s upstream", (transport) => {
  let gw: TestGateway;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    let connection;
    if (transport === "http") {
      child = spawn(process.execPath, ["--import", "tsx", FIXTURE, "--port", "0"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] });
      const url = await new Promise<string>((ok) => createInterface({ input: child!.stdout! }).once("line", (l) => ok((JSON.parse(l) as { url: string }).url)));
      connection = { name: "notes", transport: "http" as const, url };
    } else {
      connection = { name: "notes", transport: "stdio" as const, command: process.execPath, args: ["--import", "tsx", FIXTURE, "--stdio"], cwd: REPO_ROOT };
    }
    gw = await startTestGateway({ connections: [connection], policies: allowAll });
  });
  afterAll(async () => {
    await gw.close();
    child?.kill();
  });

  it("reach the session that subscribed, on its standalone stream", async () => {
    const client = new Client({ name: "listener", version: "1" });
    const listChanged = new Promise<void>((ok) => client.setNotificationHandler(ResourceListChangedNotificationSchema, () => ok()));
    const updated = new Promise<string>((ok) => client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => ok(n.params.uri)));
    await connectClient(gw, "notes", {}, client);
    await client.subscribeResource({ uri: "note://one" });
    // Give the client's GET stream a moment to open through the gateway.
    await new Promise((r) => setTimeout(r, 300));
    expect(await client.callTool({ name: "touch", arguments: {} })).toMatchObject({ content: [{ text: "touched" }] });
    await listChanged;
    expect(await updated).toBe("note://one");
    await client.close();
  });
});
