import { getChannelConfig, listChannelStates } from "../storage/channels";
import type { ChannelView } from "./render";

/** Where a caller stands, as far as the request says. */
export type Caller = {
  readonly clusterId: string | null;
  readonly currentVersion: string | null;
};

export type ChannelAnswers = {
  readonly github: { owner: string; repo: string };
  readonly channels: ChannelView[];
};

/**
 * Reads every channel's current answer for a caller, in config order. This is the one
 * place that turns stored channel state into what clients see.
 */
export async function readChannelAnswers(db: D1Database, _caller: Caller): Promise<ChannelAnswers> {
  const [stored, states] = await Promise.all([getChannelConfig(db), listChannelStates(db)]);
  const channels = stored.config.channels.map((channel) => ({
    name: channel.name,
    latest: states.get(channel.name)?.version ?? null,
    latestRegexp: channel.latestRegexp,
    excludeRegexp: channel.excludeRegexp,
  }));
  return { github: stored.config.github ?? { owner: "k3s-io", repo: "k3s" }, channels };
}
