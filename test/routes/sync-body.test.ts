import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { adminRequest, resetMirror } from "./helpers";

beforeEach(async () => {
  await resetMirror();
});

describe("POST /api/v1/sync body", () => {
  it("rejects a large body with 413 and runs no step", async () => {
    const body = `{"retryNow": true}${" ".repeat(64 * 1024)}`;
    const response = await adminRequest("/api/v1/sync", { method: "POST", body, headers: { "Content-Type": "application/json" } });
    expect(response.status).toBe(413);
    expect((await response.json<{ message: string }>()).message).toContain('{"retryNow": true}');

    const runs = await env.DB.prepare("SELECT COUNT(*) AS count FROM sync_runs").first<{ count: number }>();
    expect(runs?.count).toBe(0);
  });
});
