/**
 * The channel layout the mirror serves until an operator imports a config: the
 * layout of the k3s channel server, except that `stable` follows the upstream
 * channel server instead of carrying a pinned version, which would go stale.
 */
const MINORS = Array.from({ length: 36 - 16 + 1 }, (_, index) => 16 + index);

export const DEFAULT_CHANNEL_CONFIG_YAML = [
  "channels:",
  "- name: stable",
  "- name: latest",
  "  latestRegexp: .*",
  "  excludeRegexp: ^[^+]+-",
  "- name: testing",
  "  latestRegexp: -(alpha|beta|rc)",
  ...MINORS.flatMap((minor) => [`- name: v1.${minor}`, `  latestRegexp: v1\\.${minor}\\..*`, "  excludeRegexp: ^[^+]+-"]),
  "github:",
  "  owner: k3s-io",
  "  repo: k3s",
  "redirectBase: https://github.com/k3s-io/k3s/releases/tag/",
  "",
].join("\n");
