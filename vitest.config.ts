import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Each test file gets its own process: Dawn instances and their threads never share a worker.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
