import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { runSyncStep } from "../../src/sync/step";
import { resetMirror } from "../routes/helpers";

/** Wraps the D1 binding so that statements matching `pattern` fail, as an outage would. */
function failingDatabase(pattern: RegExp): D1Database {
  return new Proxy(env.DB, {
    get(target, property, receiver) {
      if (property === "prepare") {
        return (sql: string) => {
          if (pattern.test(sql)) throw new Error("D1_ERROR: storage unavailable");
          return target.prepare(sql);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

beforeEach(async () => {
  await resetMirror();
});

describe("runSyncStep", () => {
  it("closes its run record when storage fails mid-step", async () => {
    const db = failingDatabase(/^DELETE FROM channel_state/);
    await expect(runSyncStep({ db, bucket: env.FILES, config: loadConfig(env), trigger: "api" })).rejects.toThrow("storage unavailable");

    const run = await env.DB.prepare("SELECT finished_at, done, summary FROM sync_runs").first<{ finished_at: string | null; done: number; summary: string }>();
    expect(run?.finished_at).not.toBeNull();
    expect(run?.done).toBe(0);
    expect(run?.summary).toContain("storage unavailable");
  });

  it("releases its lease when storage fails mid-step", async () => {
    const db = failingDatabase(/^DELETE FROM channel_state/);
    await runSyncStep({ db, bucket: env.FILES, config: loadConfig(env), trigger: "api" }).catch(() => undefined);
    const lock = await env.DB.prepare("SELECT COUNT(*) AS count FROM locks").first<{ count: number }>();
    expect(lock?.count).toBe(0);
  });
});
