import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Unit and route tests run inside workerd with real D1 and R2 bindings from wrangler.toml.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: "test-admin-token-0123456789",
            // Route tests seed D1 directly, behind the cache's back; one test turns it on.
            CHANNEL_CACHE_TTL_MS: "0",
            // The defaults in wrangler.toml name internet hosts; tests never reach them.
            // Port 9 on loopback refuses connections.
            UPSTREAM_CHANNELS_URL: "http://127.0.0.1:9/v1-release/channels",
            UPSTREAM_RELEASES_API: "http://127.0.0.1:9/repos/k3s-io/k3s/releases",
            UPSTREAM_INSTALL_SCRIPT_URL: "http://127.0.0.1:9/install.sh",
          },
        },
      }),
    ],
    test: {
      include: ["test/unit/**/*.test.ts", "test/routes/**/*.test.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
    },
  };
});
