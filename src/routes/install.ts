import { Hono, type Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DEFAULT_ARCH } from "../config";
import type { AppEnv } from "../env";
import { defaultInstallChannel } from "../install/default-channel";
import { renderErrorScript } from "../install/error-script";
import { listOfferedVersions } from "../install/offered-versions";
import { describeQueryProblem, InstallQuery, printable, ResolveQuery, singleValuedQuery } from "../install/query";
import { resolveExplicitVersion } from "../install/resolve-version";
import { renderWrappedScript } from "../install/script";
import { readUpstreamInstaller } from "../install/upstream-installer";
import { findBlock } from "../policy";
import { EMPTY_POLICY } from "../policy/schema";
import { getLivePolicyRevision } from "../storage/policy";
import { requestOrigin } from "./origin";

const SCRIPT_HEADERS = {
  "Content-Type": "text/plain; charset=utf-8",
  // The script carries the live default channel and the request's own URL.
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};

/**
 * The wrapped install script at `/` and `/install.sh`:
 * `curl -sfL https://mirror.example/ | sh -s - [server|agent] [k3s flags]`.
 * Hono routes HEAD to these GET handlers and drops the body.
 */
export const installRoutes = new Hono<AppEnv>();

installRoutes.get("/", serveInstallScript);
installRoutes.get("/install.sh", serveInstallScript);

async function serveInstallScript(c: Context<AppEnv>) {
  // 1. Validate the query: channel, version, cluster, each against a strict pattern.
  const single = singleValuedQuery(c.req.queries());
  if (!single.ok) return scriptError(c, 400, single.message);
  const query = InstallQuery.safeParse(single.values);
  if (!query.success) return scriptError(c, 400, describeQueryProblem(query.error, single.values));

  // 2. Read the upstream installer the sync stored, checked against its record.
  const lookup = await readUpstreamInstaller(c.env.DB, c.env.FILES);
  if (lookup.kind === "missing") {
    return scriptError(c, 503, "this mirror has no copy of the upstream K3s installer yet. Ask its operator to run a sync (POST /api/v1/sync with the admin token, or wait for the next scheduled sync) or to import an installer, then run this command again.");
  }
  if (lookup.kind === "unusable") {
    console.error(JSON.stringify({ event: "installer_unusable", reason: lookup.reason }));
    return scriptError(c, 503, `this mirror's copy of the upstream K3s installer failed its check: ${lookup.reason}. Ask its operator to run a sync, which stores a fresh copy, then run this command again.`);
  }

  // 3. Render the script with the URL the request reached, private-mode prefix included.
  const { channel, version, cluster } = query.data;
  const baseUrl = `${requestOrigin(c)}${c.get("nodePrefix") ?? ""}`;
  const defaultChannel = await defaultInstallChannel(c.env.DB, c.get("config"), cluster ?? null);
  const script = renderWrappedScript({ baseUrl, defaultChannel, channel: channel ?? null, version: version ?? null, cluster: cluster ?? null, installer: lookup.installer });
  return c.body(script, 200, SCRIPT_HEADERS);
}

function scriptError(c: Context<AppEnv>, status: ContentfulStatusCode, message: string) {
  return c.body(renderErrorScript(message), status, SCRIPT_HEADERS);
}

/**
 * `GET /api/v1/versions/resolve?version=<input>[&arch=<arch>]`: normalises a version
 * typed by a person to the canonical spelling of a version the mirror offers. Returns
 * 200 with the version and a newline, 404 naming what is offered, 403 with the policy's
 * reason for a blocked version, or 400 showing the expected form; all as plain text, for
 * the install script and for people.
 */
export const versionRoutes = new Hono<AppEnv>();

versionRoutes.get("/resolve", async (c) => {
  const single = singleValuedQuery(c.req.queries());
  if (!single.ok) return c.text(`${single.message}\n`, 400);
  const query = ResolveQuery.safeParse(single.values);
  if (!query.success) {
    if (single.values.version === undefined) return c.text("missing query parameter version; send ?version=v1.33.6+k3s1\n", 400);
    return c.text(`${describeQueryProblem(query.error, single.values, "this endpoint takes version, arch and cluster")}\n`, 400);
  }

  const arch = query.data.arch ?? DEFAULT_ARCH;
  const [offered, revision] = await Promise.all([listOfferedVersions(c.env.DB, c.get("config"), arch), getLivePolicyRevision(c.env.DB)]);
  const policy = revision?.document ?? EMPTY_POLICY;

  // A version typed without its build resolves to the newest build the policy allows.
  const allowed = new Set([...offered].filter((version) => findBlock(policy, version) === null));
  const resolution = resolveExplicitVersion(query.data.version, allowed);
  switch (resolution.kind) {
    case "exact":
    case "newest-build":
      return c.text(`${resolution.version}\n`, 200);
    case "invalid":
      return c.text(`"${printable(resolution.input)}" is not a K3s version; write it like v1.33.6+k3s1 (also accepted: 1.33.6, v1.33.6, v1.33.6-k3s1, v1.33.6%2Bk3s1)\n`, 400);
    case "not-offered": {
      const block = findBlock(policy, resolution.wanted) ?? [...offered].map((version) => findBlock(policy, version)).find((match) => match !== null && match.version.startsWith(`${resolution.wanted}+`));
      if (block) return c.text(`${block.version} is blocked by the org policy (${block.rule}): ${block.reason}\n`, 403);
      const available = resolution.nearby.length > 0 ? `Available: ${resolution.nearby.join(", ")}.` : "This mirror has no version published for it yet; run a sync first.";
      return c.text(`${resolution.wanted} is not published on this mirror for ${arch}. ${available}\n`, 404);
    }
  }
});
