import type { Config } from "../config";
import { evaluatePolicy, type Reason } from "../policy/evaluate";
import { readCachedPolicyInput } from "../policy/service";
import type { ChannelView } from "./render";

/** Where a caller stands, as far as the request says. */
export type Caller = {
  readonly clusterId: string | null;
  readonly currentVersion: string | null;
};

/** A channel as one caller sees it, with the policy steps behind its answer. */
export type ChannelAnswer = ChannelView & { readonly reasons: readonly Reason[] };

export type ChannelAnswers = {
  readonly github: { owner: string; repo: string };
  /** Visible channels in order: config channels, then channels only the policy defines. */
  readonly channels: ChannelAnswer[];
  /** The channel an install uses when none is named, for this caller. */
  readonly defaultChannel: string;
  /** The cluster group the caller falls in, or null. */
  readonly clusterGroup: string | null;
  /** The policy revision the answers come from, or null before the first one. */
  readonly policyRevision: number | null;
};

/**
 * Reads every channel's current answer for a caller. This is the one place that turns
 * stored channel state into what clients see: the org policy applies here, for the
 * caller's cluster when it names one (X-SUC-Cluster-ID or `cluster`), else for the org.
 */
export async function readChannelAnswers(
  db: D1Database,
  caller: Caller,
  config: Pick<Config, "channelGate" | "defaultChannel" | "channelCacheTtlMs">,
  nowMs: number = Date.now(),
): Promise<ChannelAnswers> {
  const live = await readCachedPolicyInput(db, config, nowMs);
  const effective = evaluatePolicy(live.input, caller.clusterId);
  return {
    github: live.github,
    channels: effective.channels.map((channel) => ({ ...channel, latest: channel.version })),
    defaultChannel: effective.defaultChannel,
    clusterGroup: effective.group?.name ?? null,
    policyRevision: live.revision?.id ?? null,
  };
}
