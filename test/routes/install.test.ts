import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { installScriptKey } from "../../src/storage/keys";
import { ORIGIN, request, resetMirror } from "./helpers";

const INSTALLER = "#!/bin/sh\n# upstream installer stand-in for route tests\necho \"installing $INSTALL_K3S_VERSION\"\n";
// Computed independently of the mirror: `printf '%s' "$INSTALLER" | sha256sum`.
const INSTALLER_SHA256 = "da578ea5070f58cebd3c80dddfec6500debaa856ab744bc655126bb35618a5e8";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Stores an installer the way the sync does: an R2 object under its SHA-256 and a row. */
async function storeInstaller(text: string, lastSeenAt: string, options: { objectText?: string; sha256?: string } = {}) {
  const sha256 = options.sha256 ?? (await sha256Hex(text));
  await env.FILES.put(installScriptKey(sha256), options.objectText ?? text);
  await env.DB.prepare("INSERT INTO install_scripts (sha256, size, source_url, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)")
    .bind(sha256, new TextEncoder().encode(text).byteLength, "https://installer.test/install.sh", lastSeenAt, lastSeenAt)
    .run();
  return sha256;
}

async function publish(arch: string, ...versions: string[]) {
  await env.DB.batch(versions.map((version) => env.DB.prepare("INSERT INTO publications (version, arch, published_at) VALUES (?, ?, '2024-01-01T00:00:00Z')").bind(version, arch)));
}

/** Reads the single-quoted value a script assigns to a variable in mirror_settings. */
function setting(script: string, name: string): string | undefined {
  const match = new RegExp(`^    ${name}='((?:[^']|'\\\\'')*)'$`, "m").exec(script);
  return match?.[1]?.replaceAll("'\\''", "'");
}

beforeEach(async () => {
  await resetMirror();
});

describe("GET /", () => {
  it("GET / serves the wrapped script with the stored installer", async () => {
    const sha256 = await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    const response = await request("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const script = await response.text();
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script.endsWith('\nmirror_install "$@"\n')).toBe(true);
    expect(script).toContain(`\n${INSTALLER}MIRROR_UPSTREAM_INSTALLER_`);
    expect(sha256).toBe(INSTALLER_SHA256);
    expect(setting(script, "mirror_installer_sha256")).toBe(INSTALLER_SHA256);
    expect(setting(script, "mirror_base")).toBe(ORIGIN);
    expect(setting(script, "mirror_default_channel")).toBe("stable");
  });

  it("GET /install.sh serves the same script", async () => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    const [root, named] = await Promise.all([request("/"), request("/install.sh")]);
    expect(named.status).toBe(200);
    expect(await named.text()).toBe(await root.text());
  });

  it("HEAD / answers 200 without a body", async () => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    const response = await request("/", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await response.text()).toBe("");
  });

  it("GET / embeds the most recently seen installer", async () => {
    await storeInstaller("#!/bin/sh\necho older\n", "2025-01-01T00:00:00Z");
    const newer = await storeInstaller("#!/bin/sh\necho newer\n", "2025-06-01T00:00:00Z");
    await storeInstaller("#!/bin/sh\necho middle\n", "2025-03-01T00:00:00Z");
    const script = await (await request("/")).text();
    expect(setting(script, "mirror_installer_sha256")).toBe(newer);
    expect(script).toContain("echo newer\n");
    expect(script).not.toContain("echo older\n");
  });

  it("GET / uses X-Forwarded-Proto and X-Forwarded-Host for the mirror's URL", async () => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    const script = await (await request("/", { headers: { "X-Forwarded-Proto": "https", "X-Forwarded-Host": "mirror.example.org" } })).text();
    expect(setting(script, "mirror_base")).toBe("https://mirror.example.org");
  });

  it("GET / ignores a forwarded host that is not a host name", async () => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    const script = await (await request("/", { headers: { "X-Forwarded-Host": "evil.example/'$(id)'" } })).text();
    expect(setting(script, "mirror_base")).toBe(ORIGIN);
    expect(script).not.toContain("$(id)");
  });

  it("GET / carries channel, version and cluster into the script", async () => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    let script = await (await request("/?channel=v1.33&cluster=prod-eu.1")).text();
    expect(setting(script, "mirror_query_channel")).toBe("v1.33");
    expect(setting(script, "mirror_query_cluster")).toBe("prod-eu.1");
    expect(setting(script, "mirror_query_version")).toBe("");

    script = await (await request("/install.sh?version=v1.28.5%2Bk3s1")).text();
    expect(setting(script, "mirror_query_version")).toBe("v1.28.5+k3s1");
  });

  it.each(["1.28.5", "v1.28.5", "v1.28.5-k3s1", "v1.28.5%2Bk3s1", "v1.28.5+k3s1"])("GET /?version=%s accepts each spelling", async (spelling) => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    const response = await request(`/?version=${spelling}`);
    expect(response.status).toBe(200);
    const value = setting(await response.text(), "mirror_query_version");
    expect(["1.28.5", "v1.28.5", "v1.28.5-k3s1", "v1.28.5+k3s1"]).toContain(value);
  });

  it("GET /t/<token>/install.sh carries the node-token prefix into the base URL", async () => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    const token = "node-token-0123456789abcdef";
    const privateEnv = { ...env, NODE_TOKENS: `site-a:${token}` };
    const { app } = await import("../../src/index");
    const response = await app.fetch(new Request(`${ORIGIN}/t/${token}/install.sh?cluster=c1`), privateEnv);
    expect(response.status).toBe(200);
    expect(setting(await response.text(), "mirror_base")).toBe(`${ORIGIN}/t/${token}`);

    const resolved = await app.fetch(new Request(`${ORIGIN}/t/${token}/api/v1/versions/resolve?version=v1.28.5`), privateEnv);
    expect(resolved.status).toBe(404);
    const refused = await app.fetch(new Request(`${ORIGIN}/install.sh`), privateEnv);
    expect(refused.status).toBe(401);
  });

  it.each([
    ["channel", "stable;touch${IFS}x"],
    ["channel", "$(touch x)"],
    ["channel", "`id`"],
    ["channel", "stable'"],
    ["cluster", "a b"],
    ["cluster", "prod|sh"],
    ["cluster", "x".repeat(129)],
    ["version", "v1.28.5+k3s1;id"],
    ["version", "latest"],
    ["version", "$(id)"],
    ["channel", ""],
  ])("GET /?%s=%s answers 400 with a script that prints the error", async (name, value) => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    const response = await request(`/?${name}=${encodeURIComponent(value)}`);
    expect(response.status).toBe(400);
    const script = await response.text();
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script).toContain(">&2");
    expect(script).toContain("    exit 1\n");
    expect(script.endsWith("\nmirror_error\n")).toBe(true);
    expect(script).toContain(`query parameter ${name}=`);
    expect(script).not.toContain(INSTALLER);
    const quoted = /printf '\[mirror\] ERROR: %s\\n' ('(?:[^']|'\\'')*') >&2/.exec(script);
    expect(quoted).not.toBeNull();
  });

  it("GET / answers 400 for an unknown parameter", async () => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    const response = await request("/?chanel=latest");
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('unknown query parameter "chanel"');
  });

  it("GET / answers 400 for a repeated parameter", async () => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    const response = await request("/?channel=stable&channel=latest");
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('query parameter "channel" is given 2 times');
  });

  it("GET / answers 400 for channel and version together", async () => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    const response = await request("/?channel=stable&version=v1.28.5");
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("channel and version exclude each other");
  });

  it("GET / answers 503 with a script when no installer is mirrored", async () => {
    const response = await request("/");
    expect(response.status).toBe(503);
    const script = await response.text();
    expect(script).toContain("no copy of the upstream K3s installer yet");
    expect(script).toContain("run a sync");
    expect(script.endsWith("\nmirror_error\n")).toBe(true);
  });

  it("GET / answers 503 when the stored installer does not match its record", async () => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z", { objectText: `${INSTALLER}echo tampered\n` });
    const response = await request("/");
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("does not match its record");
  });

  it("GET / answers 503 without reading an installer object larger than its record", async () => {
    await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z", { objectText: "#".repeat(2 * 1024 * 1024) });
    const response = await request("/");
    expect(response.status).toBe(503);
    expect(await response.text()).toContain(`does not match its record (2097152 bytes; recorded ${INSTALLER_SHA256}, ${INSTALLER.length} bytes)`);
  });

  it("GET / answers 503 when the installer object is missing", async () => {
    const sha256 = await storeInstaller(INSTALLER, "2025-01-01T00:00:00Z");
    await env.FILES.delete(installScriptKey(sha256));
    const response = await request("/");
    expect(response.status).toBe(503);
    expect(await response.text()).toContain("is missing from R2");
  });

  it("GET / picks a here-document delimiter the installer does not contain", async () => {
    const sha256 = await sha256Hex("placeholder");
    const delimiter = `MIRROR_UPSTREAM_INSTALLER_${sha256.slice(0, 16).toUpperCase()}`;
    const text = `#!/bin/sh\ncat <<'${delimiter}'\nhello\n${delimiter}\n`;
    await storeInstaller(text, "2025-01-01T00:00:00Z");
    const script = await (await request("/")).text();
    const used = /cat <<'(MIRROR_UPSTREAM_INSTALLER_[0-9A-F_]+)'\n/.exec(script)?.[1];
    expect(used).toBeDefined();
    expect(text.split("\n")).not.toContain(used);
    expect(script).toContain(`\n${text}${used}\n}`);
  });
});

describe("GET /api/v1/versions/resolve", () => {
  beforeEach(async () => {
    await publish("amd64", "v1.28.5+k3s1", "v1.28.5+k3s2", "v1.28.4+k3s1", "v1.33.6+k3s1", "v1.26.2-rc1+k3s1");
    await publish("arm64", "v1.28.5+k3s1");
  });

  it.each([
    ["v1.28.5+k3s1", "v1.28.5+k3s1"],
    ["v1.28.5%2Bk3s1", "v1.28.5+k3s1"],
    ["v1.28.5%252Bk3s1", "v1.28.5+k3s1"],
    ["v1.28.5-k3s1", "v1.28.5+k3s1"],
    ["1.28.5", "v1.28.5+k3s2"],
    ["v1.28.5", "v1.28.5+k3s2"],
    ["v1.26.2-rc1", "v1.26.2-rc1+k3s1"],
  ])("GET /api/v1/versions/resolve?version=%s answers %s", async (input, expected) => {
    const response = await request(`/api/v1/versions/resolve?version=${input}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; charset=UTF-8");
    expect(await response.text()).toBe(`${expected}\n`);
  });

  it("GET /api/v1/versions/resolve reads an unencoded + as +", async () => {
    const response = await request("/api/v1/versions/resolve?version=v1.28.5+k3s2");
    expect(await response.text()).toBe("v1.28.5+k3s2\n");
  });

  it("GET /api/v1/versions/resolve needs no admin token", async () => {
    const response = await request("/api/v1/versions/resolve?version=v1.33.6%2Bk3s1");
    expect(response.status).toBe(200);
  });

  it("GET /api/v1/versions/resolve checks the architecture", async () => {
    expect(await (await request("/api/v1/versions/resolve?version=1.28.5&arch=arm64")).text()).toBe("v1.28.5+k3s1\n");
    const missing = await request("/api/v1/versions/resolve?version=v1.33.6%2Bk3s1&arch=arm64");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("v1.33.6+k3s1 is not published on this mirror for arm64. Available: v1.28.5+k3s1.\n");
  });

  it("GET /api/v1/versions/resolve answers 404 naming versions of the same minor", async () => {
    const response = await request("/api/v1/versions/resolve?version=v1.28.6");
    expect(response.status).toBe(404);
    expect(await response.text()).toBe("v1.28.6 is not published on this mirror for amd64. Available: v1.28.5+k3s2, v1.28.5+k3s1, v1.28.4+k3s1.\n");
  });

  it("GET /api/v1/versions/resolve answers 404 naming the newest when the minor is unknown", async () => {
    const response = await request("/api/v1/versions/resolve?version=v1.30.1+k3s1");
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("Available: v1.33.6+k3s1, v1.28.5+k3s2,");
  });

  it.each(["stable", "v1.28", "1.28.5+k3s0", "v1.28.5;id", ""])("GET /api/v1/versions/resolve?version=%s answers 400", async (input) => {
    const response = await request(`/api/v1/versions/resolve?version=${encodeURIComponent(input)}`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("write it like v1.33.6+k3s1");
  });

  it("GET /api/v1/versions/resolve answers 400 without a version", async () => {
    const response = await request("/api/v1/versions/resolve");
    expect(response.status).toBe(400);
    expect(await response.text()).toBe("missing query parameter version; send ?version=v1.33.6+k3s1\n");
  });

  it("GET /api/v1/versions/resolve answers 400 for an unknown architecture", async () => {
    const response = await request("/api/v1/versions/resolve?version=1.28.5&arch=mips");
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('query parameter arch="mips" is invalid');
  });
});
