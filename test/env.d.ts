type MirrorEnv = import("../src/env").Env;
type TestMigrations = import("cloudflare:test").D1Migration[];

declare namespace Cloudflare {
  interface Env extends MirrorEnv {
    TEST_MIGRATIONS: TestMigrations;
  }
  interface GlobalProps {
    mainModule: typeof import("../src/index");
  }
}
