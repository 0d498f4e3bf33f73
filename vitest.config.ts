import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts", "sdk/ts/src/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // Integration suites start real processes (gateway, upstreams, brokers); running them
          // one file at a time keeps a 2-core machine from timing out on its own load.
          fileParallelism: false,
        },
      },
    ],
  },
});
