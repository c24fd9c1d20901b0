import { shellQuote } from "./shell";
import { WRAPPER_FUNCTIONS } from "./template";

/** The upstream installer as the mirror stores it. */
export type UpstreamInstaller = {
  /** SHA-256 (lowercase hex) of `text` encoded as UTF-8, as recorded in `install_scripts`. */
  readonly sha256: string;
  readonly text: string;
  readonly sourceUrl: string;
};

/** Settings of one wrapped script, every value already validated by the route. */
export type WrappedScriptSettings = {
  /** The mirror's URL as the request reached it, with the private-mode prefix, no trailing slash. */
  readonly baseUrl: string;
  /** The channel followed when neither the caller nor the query names a channel or version. */
  readonly defaultChannel: string;
  readonly channel: string | null;
  readonly version: string | null;
  readonly cluster: string | null;
  readonly installer: UpstreamInstaller;
};

/**
 * Renders the wrapped install script: a header of settings, the upstream installer as
 * a here-document, the wrapper's functions, and the one call on the last line.
 *
 * @example
 *   renderWrappedScript({ baseUrl: "https://mirror.example", defaultChannel: "stable",
 *     channel: null, version: null, cluster: null, installer });
 */
export function renderWrappedScript(settings: WrappedScriptSettings): string {
  return [
    renderHeader(settings.baseUrl),
    renderSettingsFunction(settings),
    renderInstallerFunction(settings.installer),
    WRAPPER_FUNCTIONS,
    'mirror_install "$@"',
    "",
  ].join("\n");
}

function renderHeader(baseUrl: string): string {
  return [
    "#!/bin/sh",
    `# K3s installer wrapper served by k3s-channel-mirror at ${baseUrl}`,
    "#",
    "# It resolves the K3s version through the mirror, checks the version-skew rules, and",
    "# runs the upstream K3s installer, unmodified and checked by SHA-256, with its download",
    "# locations pointed at the mirror. Every argument and variable reaches that installer",
    "# unchanged. The wrapper adds INSTALL_K3S_VERSION (resolved and normalised), and",
    "# INSTALL_K3S_CHANNEL_URL, GITHUB_URL and INSTALL_K3S_ARTIFACT_URL where the caller",
    "# did not set them.",
    "#",
    "#   curl -sfL <this URL> | sh -s - [server|agent] [k3s flags]",
    "#",
    "# Variables of its own: INSTALL_MIRROR_SKIP_SKEW_CHECK=true installs even when the",
    "# mirror's version-skew check rejects the version, and the install report records it.",
    "#",
    "# Nothing runs before the last line, so a download cut short does nothing.",
    "",
  ].join("\n");
}

function renderSettingsFunction(settings: WrappedScriptSettings): string {
  const assignments: [string, string][] = [
    ["mirror_base", settings.baseUrl],
    ["mirror_default_channel", settings.defaultChannel],
    ["mirror_query_channel", settings.channel ?? ""],
    ["mirror_query_version", settings.version ?? ""],
    ["mirror_query_cluster", settings.cluster ?? ""],
    ["mirror_installer_sha256", settings.installer.sha256],
  ];
  return ["mirror_settings() {", ...assignments.map(([name, value]) => `    ${name}=${shellQuote(value)}`), "}", ""].join("\n");
}

/**
 * Renders `mirror_write_installer`, which prints the installer's exact bytes. A quoted
 * here-document expands nothing but always ends in a newline. So a text without a final
 * newline goes through command substitution, which strips exactly that newline.
 */
function renderInstallerFunction(installer: UpstreamInstaller): string {
  const delimiter = hereDocDelimiter(installer.text, installer.sha256);
  const comment = `# The upstream installer from ${installer.sourceUrl.replace(/[\r\n]/g, " ")}, SHA-256 ${installer.sha256}.`;
  if (installer.text.endsWith("\n")) {
    return [comment, "mirror_write_installer() {", `    cat <<'${delimiter}'`, `${installer.text}${delimiter}`, "}", ""].join("\n");
  }
  return [comment, "mirror_write_installer() {", `    printf '%s' "$(cat <<'${delimiter}'`, installer.text, delimiter, ')"', "}", ""].join("\n");
}

/** Picks a here-document delimiter that no line of the text equals. */
function hereDocDelimiter(text: string, sha256: string): string {
  const lines = new Set(text.split("\n"));
  let delimiter = `MIRROR_UPSTREAM_INSTALLER_${sha256.slice(0, 16).toUpperCase()}`;
  for (let attempt = 1; lines.has(delimiter); attempt += 1) delimiter = `MIRROR_UPSTREAM_INSTALLER_${sha256.slice(0, 16).toUpperCase()}_${attempt}`;
  return delimiter;
}
