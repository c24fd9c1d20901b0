import { Hono, type Context } from "hono";
import { readChannelAnswers } from "../channels/answer";
import { readChannelCaller } from "../channels/caller";
import { CHANNEL_NAME_PATTERN } from "../channels/config";
import { CHANNEL_NOT_FOUND_BODY, renderChannelCollection, renderEmptyCollection, renderRedirectBody } from "../channels/render";
import type { AppEnv } from "../env";
import { describeHold } from "../skew/offer";
import { decideChannelLookup } from "../skew/service";
import { requestOrigin } from "./origin";

/** The channel API of rancher/channelserver, under /v1-release. */
export const channelRoutes = new Hono<AppEnv>();

channelRoutes.get("/channels", collection);
channelRoutes.get("/channel", collection);

channelRoutes.get("/releases", (c) => jsonText(c, renderEmptyCollection(requestOrigin(c), "releases")));
channelRoutes.get("/appdefaults", (c) => jsonText(c, renderEmptyCollection(requestOrigin(c), "appdefaults")));

channelRoutes.get("/channels/:name", async (c) => {
  const name = c.req.param("name");
  if (!CHANNEL_NAME_PATTERN.test(name)) return notFound(c);

  const caller = readChannelCaller(c);
  const answers = await readChannelAnswers(c.env.DB, caller, c.get("config"));
  const channel = answers.channels.find((candidate) => candidate.name === name);
  if (!channel?.latest) return notFound(c);

  // Skew rules narrow the policy's version for a caller that gives its version, cluster or role.
  const skew = await decideChannelLookup(c.env.DB, c.get("config"), {
    channel: name,
    channelVersion: channel.latest,
    clusterId: caller.clusterId,
    role: caller.role,
    current: caller.currentVersion,
    fromUpgradeController: caller.fromUpgradeController,
  }, new Date().toISOString());
  if (skew.hold) {
    const holdText = describeHold(skew.hold);
    c.header("X-Mirror-Skew-Reason", holdText.code);
    c.header("X-Mirror-Skew-Message", holdText.message);
  }

  const location = `${nodeBase(c)}/${answers.github.owner}/${answers.github.repo}/releases/tag/${skew.version}`;
  return c.body(renderRedirectBody(location), 302, { Location: location, "Content-Type": "text/html; charset=utf-8" });
});

async function collection(c: Context<AppEnv>) {
  const answers = await readChannelAnswers(c.env.DB, readChannelCaller(c), c.get("config"));
  return jsonText(c, renderChannelCollection(nodeBase(c), answers.channels));
}

/** The origin plus, in private mode, the `/t/<token>` prefix the caller used. */
function nodeBase(c: Context<AppEnv>): string {
  return `${requestOrigin(c)}${c.get("nodePrefix") ?? ""}`;
}

function jsonText(c: Context<AppEnv>, body: string) {
  return c.body(body, 200, { "Content-Type": "application/json" });
}

function notFound(c: Context<AppEnv>) {
  return c.body(CHANNEL_NOT_FOUND_BODY, 404, { "Content-Type": "application/json" });
}
