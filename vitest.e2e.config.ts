import { defineConfig } from "vitest/config";

// End-to-end tests run in Node: they start the mirror as `npm start` does and drive it
// with real sh, curl, wget and sha256sum against fake upstream servers on loopback.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
