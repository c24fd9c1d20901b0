import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMirrorProcess, type MirrorProcess } from "../support/mirror-process";
import { run } from "../support/run";

describe("npm start", () => {
  let mirror: MirrorProcess;

  beforeAll(async () => {
    mirror = await startMirrorProcess();
  });

  afterAll(async () => {
    await mirror?.stop();
  });

  it("serves the embedded channel layout to curl", async () => {
    const result = await run("curl", ["-sS", "-f", `${mirror.url}/v1-release/channels`]);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body.resourceType).toBe("channels");
    expect(body.data.map((channel: { name: string }) => channel.name)).toContain("stable");
    expect(result.stdout.endsWith("}\n")).toBe(true);
  });

  it("keeps imported state across a restart", async () => {
    const config = "channels:\n- name: stable\n  latest: v1.30.1+k3s1\n";
    const put = await run("curl", ["-sS", "-f", "-X", "PUT", "-H", `Authorization: Bearer ${mirror.adminToken}`, "--data-binary", config, `${mirror.url}/api/v1/channel-config`]);
    expect(put.code).toBe(0);

    await mirror.stop();
    expect(mirror.output()).toContain('"event":"stopped"');
    mirror = await startMirrorProcess({ dataDir: mirror.dataDir, vars: { CHANNEL_GATE: "known" } });

    const collection = await run("curl", ["-sS", "-f", `${mirror.url}/v1-release/channels`]);
    expect(JSON.parse(collection.stdout).data.map((channel: { name: string }) => channel.name)).toEqual(["stable"]);
  });
});
