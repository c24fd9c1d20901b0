import { describe, expect, it } from "vitest";
import type { FileRow } from "../../src/storage/files";
import { requiredFiles } from "../../src/sync/files";
import { planVersion, selectVersions, type ReleaseListing } from "../../src/sync/plan";

const SELECTION = { arches: ["amd64", "arm64"] as const, oldestMinor: 32, patchesPerMinor: 2, airgap: false };
const NOW = "2025-06-01T00:00:00.000Z";

function release(version: string, options: Partial<ReleaseListing> = {}): ReleaseListing {
  return { version, prerelease: false, draft: false, assets: [], ...options };
}

function asset(version: string, name: string, size = 10) {
  return { name, size, browser_download_url: `http://127.0.0.1:1/download/${encodeURIComponent(version)}/${name}`, digest: null };
}

function fileRow(version: string, name: string, overrides: Partial<FileRow>): FileRow {
  return {
    version,
    name,
    arch: "amd64",
    state: "pending",
    size: null,
    sha256: null,
    expectedSha256: null,
    actualSha256: null,
    error: null,
    attempts: 0,
    nextAttemptAt: null,
    verifiedAt: null,
    updatedAt: NOW,
    objectKey: null,
    origin: "upstream",
    ...overrides,
  };
}

describe("selectVersions", () => {
  const releases = [
    release("v1.33.6+k3s1"),
    release("v1.33.6+k3s2"),
    release("v1.33.5+k3s1"),
    release("v1.33.4+k3s1"),
    release("v1.32.9+k3s1"),
    release("v1.34.0-rc1+k3s1", { prerelease: true }),
    release("v1.34.0+k3s1", { draft: true }),
    release("v1.31.12+k3s1"),
  ];

  it("takes the newest patches per minor from the oldest minor", () => {
    expect(selectVersions(releases, [], { ...SELECTION })).toEqual(["v1.33.6+k3s2", "v1.33.5+k3s1", "v1.32.9+k3s1"]);
  });

  it("puts channel targets first, prereleases included", () => {
    const chosen = selectVersions(releases, ["v1.34.0-rc1+k3s1", "v1.31.12+k3s1", null, "stable"], { ...SELECTION });
    expect(chosen).toEqual(["v1.34.0-rc1+k3s1", "v1.31.12+k3s1", "v1.33.6+k3s2", "v1.33.5+k3s1", "v1.32.9+k3s1"]);
  });

  it("selects only channel targets with zero patches per minor", () => {
    expect(selectVersions(releases, ["v1.33.4+k3s1"], { ...SELECTION, patchesPerMinor: 0 })).toEqual(["v1.33.4+k3s1"]);
  });
});

describe("requiredFiles", () => {
  it("requires the binary and checksum file by default", () => {
    expect(requiredFiles("arm", false, [])).toEqual(["sha256sum-arm.txt", "k3s-armhf"]);
  });

  it("adds compressed airgap tarballs and the image list", () => {
    const listed = ["k3s", "k3s-airgap-images-amd64.tar", "k3s-airgap-images-amd64.tar.gz", "k3s-airgap-images-amd64.tar.zst", "k3s-airgap-images-arm64.tar.zst", "k3s-images.txt"];
    expect(requiredFiles("amd64", true, listed)).toEqual(["sha256sum-amd64.txt", "k3s", "k3s-airgap-images-amd64.tar.gz", "k3s-airgap-images-amd64.tar.zst", "k3s-images.txt"]);
  });

  it("falls back to the plain airgap tarball", () => {
    expect(requiredFiles("amd64", true, ["k3s-airgap-images-amd64.tar"])).toContain("k3s-airgap-images-amd64.tar");
  });
});

describe("planVersion", () => {
  const version = "v1.33.6+k3s1";
  const listing = release(version, { assets: [asset(version, "k3s"), asset(version, "sha256sum-amd64.txt"), asset(version, "k3s-arm64")] });
  const base = { version, release: listing, arches: ["amd64", "arm64"] as const, airgap: false, checksums: new Map(), files: new Map(), now: NOW, retryNow: false };

  it("fetches checksum files before binaries", () => {
    const plan = planVersion({ ...base, arches: ["amd64", "arm64"] });
    expect(plan.work.map((item) => item.name)).toEqual(["sha256sum-amd64.txt"]);
    expect(plan.arches[0]!.missing).toContainEqual(expect.objectContaining({ name: "k3s", reason: "awaiting-checksum-file" }));
  });

  it("reports files not uploaded upstream", () => {
    const plan = planVersion({ ...base, arches: ["amd64", "arm64"] });
    const arm64 = plan.arches.find((arch) => arch.arch === "arm64")!;
    expect(arm64.complete).toBe(false);
    expect(arm64.missing.map((missing) => [missing.name, missing.reason])).toEqual([
      ["sha256sum-arm64.txt", "not-uploaded"],
      ["k3s-arm64", "awaiting-checksum-file"],
    ]);
  });

  it("passes the expected hash from the checksum file", () => {
    const checksums = new Map([["amd64", new Map([["k3s", "c".repeat(64)]])]]);
    const files = new Map([["sha256sum-amd64.txt", fileRow(version, "sha256sum-amd64.txt", { state: "verified" })]]);
    const plan = planVersion({ ...base, arches: ["amd64"], checksums, files });
    expect(plan.work).toEqual([expect.objectContaining({ name: "k3s", arch: "amd64", expectedSha256: "c".repeat(64) })]);
  });

  it("waits for a failed file's retry time unless told to retry now", () => {
    const files = new Map([["sha256sum-amd64.txt", fileRow(version, "sha256sum-amd64.txt", { state: "failed", attempts: 1, nextAttemptAt: "2025-06-01T00:01:00.000Z" })]]);
    expect(planVersion({ ...base, arches: ["amd64"], files }).work).toEqual([]);
    expect(planVersion({ ...base, arches: ["amd64"], files, retryNow: true }).work.map((item) => item.name)).toEqual(["sha256sum-amd64.txt"]);
    expect(planVersion({ ...base, arches: ["amd64"], files, now: "2025-06-01T00:02:00.000Z" }).work.map((item) => item.name)).toEqual(["sha256sum-amd64.txt"]);
  });

  it("marks an arch complete when every required file is verified", () => {
    const files = new Map([
      ["sha256sum-amd64.txt", fileRow(version, "sha256sum-amd64.txt", { state: "verified" })],
      ["k3s", fileRow(version, "k3s", { state: "verified" })],
    ]);
    const plan = planVersion({ ...base, arches: ["amd64"], files });
    expect(plan.arches[0]!.complete).toBe(true);
    expect(plan.work).toEqual([]);
  });
});
