import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Each test starts its own preceptor-server child process.
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
