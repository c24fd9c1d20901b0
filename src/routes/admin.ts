import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { requireAdmin } from "../auth";
import { describeProblems, parseChannelConfig } from "../channels/config";
import { refreshChannelStates } from "../channels/service";
import type { AppEnv } from "../env";
import { HttpError } from "../errors";
import { adminLogStatement } from "../storage/admin-log";
import { getChannelConfig, insertChannelConfigStatement } from "../storage/channels";
import { listReleases, upsertReleaseStatements } from "../storage/releases";
import { preparePolicyChange, readLivePolicyInput } from "../policy";
import { GitHubRelease } from "../sync/upstream-schemas";
import { installScriptAdminRoutes } from "./install-script-api";

export const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

/** Admin API under /api/v1: every route needs an admin token. */
export const adminRoutes = new Hono<AppEnv>();

adminRoutes.use("*", requireAdmin);
adminRoutes.use(
  "*",
  bodyLimit({
    maxSize: MAX_ADMIN_BODY_BYTES,
    onError: () => {
      throw new HttpError(413, `request body is larger than ${MAX_ADMIN_BODY_BYTES} bytes; split the import into smaller files`);
    },
  }),
);

adminRoutes.route("/install-script", installScriptAdminRoutes);

adminRoutes.get("/channel-config", async (c) => {
  const stored = await getChannelConfig(c.env.DB);
  return c.json({ id: stored.id, importedAt: stored.importedAt, importedBy: stored.importedBy, embeddedDefault: stored.id === null, config: stored.config });
});

adminRoutes.put("/channel-config", async (c) => {
  const text = await c.req.text();
  const parsed = parseChannelConfig(text);
  if (!parsed.ok) throw new HttpError(400, `channel config rejected, nothing was stored: ${describeProblems(parsed.problems)}`, "InvalidChannelConfig", parsed.problems);

  // The live policy must still fit: it may follow, group or default to config channels.
  const now = new Date().toISOString();
  const config = c.get("config");
  const live = await readLivePolicyInput(c.env.DB, config, Date.parse(now));
  if (live.revision) {
    const current = new Map(live.input.baseChannels.map((channel) => [channel.name, channel]));
    const baseChannels = parsed.config.channels.map((channel) => ({
      name: channel.name,
      version: current.get(channel.name)?.version ?? null,
      wanted: current.get(channel.name)?.wanted ?? null,
      ...(channel.latestRegexp !== undefined ? { latestRegexp: channel.latestRegexp } : {}),
      ...(channel.excludeRegexp !== undefined ? { excludeRegexp: channel.excludeRegexp } : {}),
    }));
    const check = preparePolicyChange({
      draft: live.input.policy,
      live: live.input.policy,
      facts: { ...live.input, baseChannels },
      configDefaultChannel: config.defaultChannel,
      now,
      allowPending: true,
    });
    if (!check.ok) {
      const problems = check.problems.map((problem) => `policy ${problem.field}: ${problem.message}`).join("; ");
      throw new HttpError(400, `channel config rejected, nothing was stored: the live org policy (revision ${live.revision.id}) would no longer fit: ${problems}. Change the policy first, then import this config.`, "PolicyConflict", check.problems);
    }
  }

  const label = c.get("adminLabel");
  await c.env.DB.batch([
    insertChannelConfigStatement(c.env.DB, parsed.config, text, label, now),
    adminLogStatement(c.env.DB, label, "channel-config.import", { channels: parsed.config.channels.length }, now),
  ]);
  const states = await refreshChannelStates(c.env.DB, config, now);
  return c.json({ imported: parsed.config.channels.length, channels: states });
});

adminRoutes.get("/releases", async (c) => c.json({ releases: await listReleases(c.env.DB) }));

const ReleaseImport = z.array(GitHubRelease).max(5000);

adminRoutes.put("/releases", async (c) => {
  let document: unknown;
  try {
    document = await c.req.json();
  } catch {
    throw new HttpError(400, "release import body is not JSON; send a GitHub releases API array");
  }
  const parsed = ReleaseImport.safeParse(Array.isArray(document) ? document : [document]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new HttpError(400, `release import rejected, nothing was stored: at ${issue.path.join(".") || "(document)"}: ${issue.message}`, "InvalidReleases", parsed.error.issues);
  }

  const now = new Date().toISOString();
  const label = c.get("adminLabel");
  await c.env.DB.batch([
    ...upsertReleaseStatements(c.env.DB, parsed.data, "import", now),
    adminLogStatement(c.env.DB, label, "releases.import", { count: parsed.data.length }, now),
  ]);
  const states = await refreshChannelStates(c.env.DB, c.get("config"), now);
  return c.json({ imported: parsed.data.length, channels: states });
});
