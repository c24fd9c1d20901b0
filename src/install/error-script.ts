import { shellQuote } from "./shell";

/**
 * Renders the script served instead of the installer when the request cannot be served:
 * it prints `message` to stderr and exits 1, so `curl ... | sh` stops with the reason
 * rather than running nothing or part of an installer.
 */
export function renderErrorScript(message: string): string {
  return [
    "#!/bin/sh",
    "# k3s-channel-mirror could not serve the K3s installer for this request.",
    "mirror_error() {",
    `    printf '[mirror] ERROR: %s\\n' ${shellQuote(message)} >&2`,
    "    exit 1",
    "}",
    "mirror_error",
    "",
  ].join("\n");
}
