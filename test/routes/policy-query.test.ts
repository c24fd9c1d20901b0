import { beforeEach, describe, expect, it } from "vitest";
import { adminRequest, resetMirror } from "./helpers";

type ErrorBody = { message: string };
type History = { revisions: unknown[] };

beforeEach(async () => {
  await resetMirror();
});

describe("policy API query parameters", () => {
  it("PUT /api/v1/policy rejects baseRevision given twice and stores nothing", async () => {
    const response = await adminRequest("/api/v1/policy?comment=x&baseRevision=1&baseRevision=2", { method: "PUT", body: "{}" });
    expect(response.status).toBe(400);
    expect((await response.json<ErrorBody>()).message).toContain('"baseRevision" is given 2 times');

    const history = await (await adminRequest("/api/v1/policy/history")).json<History>();
    expect(history.revisions).toEqual([]);
  });

  it("GET /api/v1/policy/history names the rejected limit", async () => {
    const response = await adminRequest("/api/v1/policy/history?limit=ten");
    expect(response.status).toBe(400);
    expect((await response.json<ErrorBody>()).message).toContain('limit="ten"');
  });

  it.each(["0x10", "1e3", " 7", "+7"])("GET /api/v1/policy/revisions/%s is not a revision id", async (id) => {
    const response = await adminRequest(`/api/v1/policy/revisions/${encodeURIComponent(id)}`);
    expect(response.status).toBe(400);
    expect((await response.json<ErrorBody>()).message).toContain("is not a revision id");
  });
});
