import { defineConfig } from "vitest/config";

// Browser tests: each file starts a real preceptor-server and drives Debian's
// Chromium through playwright-core. Files run one after another (the machine
// has two cores; each test already runs a server and a browser).
export default defineConfig({
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    expect: { poll: { timeout: 8_000, interval: 50 } },
    reporters: ["default"],
  },
});
