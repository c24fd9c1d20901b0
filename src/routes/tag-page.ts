import { Hono } from "hono";
import { escapeHtml } from "../channels/render";
import type { AppEnv } from "../env";
import { HttpError } from "../errors";
import { getRelease } from "../storage/releases";
import { loadMirrorState } from "../sync/state";
import { describeVersion, type ArchStatus } from "../sync/status";
import { canonicalVersion } from "../versions";

/**
 * `/<owner>/<repo>/releases/tag/<version>`: the target of every channel redirect. It
 * answers 200 itself, because the installer takes the last segment of the final URL
 * as the version and its wget path greps every Location header.
 */
export const tagPageRoutes = new Hono<AppEnv>();

tagPageRoutes.get("/:owner/:repo/releases/tag/:version", async (c) => {
  const raw = c.req.param("version");
  const version = canonicalVersion(raw);
  if (!version) throw new HttpError(404, `"${raw.slice(0, 80)}" is not a K3s version; expected a form like v1.33.6+k3s1`);

  const [release, states] = await Promise.all([getRelease(c.env.DB, version), loadMirrorState(c.env.DB, c.get("config"), new Date().toISOString(), false, version)]);
  const files = release?.assets.map((asset) => `<li>${escapeHtml(asset.name)} (${asset.size} bytes)</li>`).join("") ?? "";
  const arches = states[0] ? describeVersion(states[0]).arches.map(renderArchStatus).join("") : "";
  const html = [
    "<!doctype html>",
    `<html><head><meta charset="utf-8"><title>${escapeHtml(version)}</title></head><body>`,
    `<h1>${escapeHtml(version)}</h1>`,
    release ? `<p>Published upstream ${escapeHtml(release.publishedAt ?? "at an unknown time")}.</p><ul>${files}</ul>` : "<p>This mirror has no record of this release.</p>",
    `<h2>On this mirror</h2><ul class="arches">${arches}</ul>`,
    "</body></html>",
    "",
  ].join("\n");
  return c.html(html, 200);
});

/** Renders one architecture's publication state: when published, or what is missing or failed. */
function renderArchStatus(status: ArchStatus): string {
  const detail =
    status.state === "published"
      ? `published ${status.publishedAt}`
      : status.state === "failed"
        ? `failed: ${status.failed.map((failure) => `${failure.file}: ${failure.error ?? "unknown error"}`).join("; ")}`
        : `pending, missing ${status.missing.map((missing) => `${missing.file} (${missing.reason})`).join(", ")}`;
  return `<li>${escapeHtml(status.arch)}: ${escapeHtml(detail)}</li>`;
}
