import { describe, expect, it } from "vitest";
import { renderErrorScript } from "../../src/install/error-script";
import { describeQueryProblem, InstallQuery, singleValuedQuery } from "../../src/install/query";
import { renderWrappedScript } from "../../src/install/script";
import { shellQuote } from "../../src/install/shell";
import { WRAPPER_FUNCTIONS } from "../../src/install/template";

const INSTALLER = { sha256: "a".repeat(64), text: "#!/bin/sh\necho upstream\n", sourceUrl: "https://installer.test/install.sh" };

describe("shellQuote", () => {
  it.each([
    ["plain", "'plain'"],
    ["", "''"],
    ["it's", "'it'\\''s'"],
    ["$(id) `id` ${HOME} \\ \" ;|&", "'$(id) `id` ${HOME} \\ \" ;|&'"],
    ["line\nbreak", "'line\nbreak'"],
  ])("quotes %j", (value, expected) => {
    expect(shellQuote(value)).toBe(expected);
  });
});

describe("renderErrorScript", () => {
  it("prints the quoted message to stderr and exits 1", () => {
    const script = renderErrorScript("bad 'value' $(id)");
    expect(script).toBe(
      ["#!/bin/sh", "# k3s-channel-mirror could not serve the K3s installer for this request.", "mirror_error() {", `    printf '[mirror] ERROR: %s\\n' 'bad '\\''value'\\'' $(id)' >&2`, "    exit 1", "}", "mirror_error", ""].join("\n"),
    );
  });
});

describe("renderWrappedScript", () => {
  const settings = { baseUrl: "https://mirror.example", defaultChannel: "stable", channel: null, version: null, cluster: "c1", installer: INSTALLER };

  it("calls the main function on the last line only", () => {
    const script = renderWrappedScript(settings);
    const lines = script.trimEnd().split("\n");
    expect(lines.at(-1)).toBe('mirror_install "$@"');
    expect(lines.filter((line) => line === 'mirror_install "$@"')).toHaveLength(1);
  });

  it("embeds the installer between its delimiters", () => {
    const script = renderWrappedScript(settings);
    expect(script).toContain(`    cat <<'MIRROR_UPSTREAM_INSTALLER_AAAAAAAAAAAAAAAA'\n${INSTALLER.text}MIRROR_UPSTREAM_INSTALLER_AAAAAAAAAAAAAAAA\n}`);
  });

  it("embeds an installer without a final newline through printf", () => {
    const script = renderWrappedScript({ ...settings, installer: { ...INSTALLER, text: "#!/bin/sh\necho upstream" } });
    expect(script).toContain(`    printf '%s' "$(cat <<'MIRROR_UPSTREAM_INSTALLER_AAAAAAAAAAAAAAAA'\n#!/bin/sh\necho upstream\nMIRROR_UPSTREAM_INSTALLER_AAAAAAAAAAAAAAAA\n)"\n}`);
  });

  it("quotes every setting", () => {
    const script = renderWrappedScript({ ...settings, channel: "v1.33", version: null, cluster: "prod-1" });
    expect(script).toContain("    mirror_base='https://mirror.example'\n");
    expect(script).toContain("    mirror_query_channel='v1.33'\n");
    expect(script).toContain("    mirror_query_version=''\n");
    expect(script).toContain("    mirror_query_cluster='prod-1'\n");
    expect(script).toContain(`    mirror_installer_sha256='${"a".repeat(64)}'\n`);
  });
});

describe("wrapper functions", () => {
  it("export no variable starting with K3S_ or CONTAINERD_", () => {
    const assigned = [...WRAPPER_FUNCTIONS.matchAll(/(?:^|\s|export\s+)([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((match) => match[1]!);
    expect(assigned.filter((name) => /^(K3S_|CONTAINERD_)/.test(name))).toEqual([]);
    expect(WRAPPER_FUNCTIONS).not.toContain("INSTALL_K3S_MIRROR");
  });

  it("export only the installer's variables", () => {
    const exported = [...WRAPPER_FUNCTIONS.matchAll(/^\s*export\s+(.+)$/gm)].flatMap((match) => match[1]!.trim().split(/\s+/));
    expect(exported.sort()).toEqual(["GITHUB_URL", "INSTALL_K3S_ARTIFACT_URL", "INSTALL_K3S_CHANNEL_URL", "INSTALL_K3S_VERSION"]);
  });

  it("use no bash-only syntax", () => {
    for (const pattern of [/\[\[/, /\bfunction\s/, /\blocal\s/, /\$\{[A-Za-z_]+\/\//, /<<</, /\bsource\s/, /(^|[\s=(])\$'/m]) {
      expect(WRAPPER_FUNCTIONS).not.toMatch(pattern);
    }
  });
});

describe("InstallQuery", () => {
  it.each([
    [{ channel: "stable" }, true],
    [{ channel: "v1.33" }, true],
    [{ version: "v1.28.5 k3s1" }, true],
    [{ cluster: "a.b_c-1" }, true],
    [{ channel: "a;b" }, false],
    [{ cluster: "" }, false],
    [{ version: "1.28" }, false],
    [{ other: "x" }, false],
  ])("parses %j: %s", (query, valid) => {
    expect(InstallQuery.safeParse(query).success).toBe(valid);
  });

  it("reads an unencoded + in a version", () => {
    expect(InstallQuery.parse({ version: "v1.28.5 k3s1" }).version).toBe("v1.28.5+k3s1");
  });

  it("names the parameter and value in its message", () => {
    const values = { cluster: "bad value\n" };
    const parsed = InstallQuery.safeParse(values);
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(describeQueryProblem(parsed.error, values)).toBe('query parameter cluster="bad value?" is invalid: it must be a cluster id of 1 to 128 characters [A-Za-z0-9._-]');
  });
});

describe("singleValuedQuery", () => {
  it("rejects a repeated parameter", () => {
    expect(singleValuedQuery({ channel: ["a", "b"] })).toEqual({ ok: false, message: 'query parameter "channel" is given 2 times; give it once' });
  });

  it("keeps single values", () => {
    expect(singleValuedQuery({ channel: ["a"], cluster: ["c"] })).toEqual({ ok: true, values: { channel: "a", cluster: "c" } });
  });
});
