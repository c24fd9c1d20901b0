import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { adminRequest, request, resetMirror } from "./helpers";

const INSTALLER = "#!/bin/sh\necho installer\n";
// `printf '#!/bin/sh\necho installer\n' | sha256sum`
const INSTALLER_SHA256 = "b8d79dd9085bc5326ca1968c37b26339e525478a8c8befd9dec5ae891c779bed";

beforeEach(async () => {
  await resetMirror();
});

describe("PUT /api/v1/install-script", () => {
  it("stores the script the wrapped install runs", async () => {
    const response = await adminRequest("/api/v1/install-script", { method: "PUT", body: INSTALLER });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sha256: INSTALLER_SHA256, size: INSTALLER.length, status: "new" });

    const script = await (await request("/")).text();
    expect(script).toContain(INSTALLER);
    expect(script).toContain(INSTALLER_SHA256);
  });

  it("rejects a body that is not a shell script", async () => {
    const response = await adminRequest("/api/v1/install-script", { method: "PUT", body: "<html>503</html>" });
    expect(response.status).toBe(400);
    expect((await response.json<{ message: string }>()).message).toContain("#!");
    const rows = await env.DB.prepare("SELECT COUNT(*) AS count FROM install_scripts").first<{ count: number }>();
    expect(rows?.count).toBe(0);
  });

  it("needs the admin token", async () => {
    const response = await request("/api/v1/install-script", { method: "PUT", body: INSTALLER });
    expect(response.status).toBe(401);
  });

  it("records the change with the token label", async () => {
    await adminRequest("/api/v1/install-script", { method: "PUT", body: INSTALLER });
    const row = await env.DB.prepare("SELECT label, action FROM admin_log").first();
    expect(row).toEqual({ label: "admin", action: "install-script.import" });
  });
});

describe("GET /api/v1/install-script", () => {
  it("answers 404 before any script is stored", async () => {
    const response = await adminRequest("/api/v1/install-script");
    expect(response.status).toBe(404);
  });

  it("returns the current script with its hash", async () => {
    await adminRequest("/api/v1/install-script", { method: "PUT", body: INSTALLER });
    const response = await adminRequest("/api/v1/install-script");
    expect(response.status).toBe(200);
    expect(response.headers.get("x-install-script-sha256")).toBe(INSTALLER_SHA256);
    expect(await response.text()).toBe(INSTALLER);
  });
});
