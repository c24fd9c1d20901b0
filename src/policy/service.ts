import { DEFAULT_ARCH, type Config } from "../config";
import { getChannelConfig, listChannelStates } from "../storage/channels";
import { getLivePolicyRevision, listOfferableVersions, type PolicyRevision } from "../storage/policy";
import { evaluatePolicy, type EffectivePolicy, type MirrorFacts, type PolicyInput } from "./evaluate";
import { cachedSnapshot } from "../channels/snapshot-cache";
import { EMPTY_POLICY } from "./schema";

/** The mirror's state that policy evaluation reads, with the live revision it came with. */
export type LivePolicyInput = { input: PolicyInput; revision: PolicyRevision | null; github: { owner: string; repo: string } };

/**
 * Reads everything policy evaluation needs from D1 in one round of queries: the channel
 * config and states, the live policy and the offerable versions.
 */
export async function readLivePolicyInput(db: D1Database, config: Pick<Config, "channelGate" | "defaultChannel">, nowMs: number): Promise<LivePolicyInput> {
  const [stored, states, revision, versions] = await Promise.all([
    getChannelConfig(db),
    listChannelStates(db),
    getLivePolicyRevision(db),
    listOfferableVersions(db, DEFAULT_ARCH, config.channelGate),
  ]);
  // With CHANNEL_GATE=known a pinned config channel names any version, as upstream's
  // channel server allows, so the versions channel states name are offerable too.
  const offerable = new Set(versions.offerable);
  if (config.channelGate === "known") {
    for (const state of states.values()) if (state.version) offerable.add(state.version);
  }
  const facts: MirrorFacts = {
    baseChannels: stored.config.channels.map((channel) => ({
      name: channel.name,
      version: states.get(channel.name)?.version ?? null,
      wanted: states.get(channel.name)?.wanted ?? null,
      ...(channel.latestRegexp !== undefined ? { latestRegexp: channel.latestRegexp } : {}),
      ...(channel.excludeRegexp !== undefined ? { excludeRegexp: channel.excludeRegexp } : {}),
    })),
    offerable,
    prereleases: versions.prereleases,
  };
  return {
    input: { ...facts, policy: revision?.document ?? EMPTY_POLICY, configDefaultChannel: config.defaultChannel, nowMs },
    revision,
    github: stored.config.github ?? { owner: "k3s-io", repo: "k3s" },
  };
}

/**
 * Like readLivePolicyInput, through the per-isolate snapshot cache: for the channel
 * answers clients read, never for checks before a write.
 */
export async function readCachedPolicyInput(
  db: D1Database,
  config: Pick<Config, "channelGate" | "defaultChannel" | "channelCacheTtlMs">,
  nowMs: number,
): Promise<LivePolicyInput> {
  const live = await cachedSnapshot(`policy-input:${config.channelGate}:${config.defaultChannel}`, config.channelCacheTtlMs, nowMs, () => readLivePolicyInput(db, config, nowMs));
  return { ...live, input: { ...live.input, nowMs } };
}

/** Computes the effective channel map for a cluster (or the org, with `clusterId` null) from D1. */
export async function readEffectivePolicy(
  db: D1Database,
  config: Pick<Config, "channelGate" | "defaultChannel" | "channelCacheTtlMs">,
  clusterId: string | null,
  nowMs = Date.now(),
): Promise<EffectivePolicy> {
  const { input } = await readCachedPolicyInput(db, config, nowMs);
  return evaluatePolicy(input, clusterId);
}

/**
 * Returns the channel an install uses when none is named, for a cluster (its group's
 * channel) or for the org (`clusterId` null), with the version that channel answers.
 */
export async function effectiveDefaultChannel(
  db: D1Database,
  config: Pick<Config, "channelGate" | "defaultChannel" | "channelCacheTtlMs">,
  clusterId: string | null,
  nowMs = Date.now(),
): Promise<{ channel: string; version: string | null; group: string | null }> {
  const effective = await readEffectivePolicy(db, config, clusterId, nowMs);
  const channel = effective.channels.find((candidate) => candidate.name === effective.defaultChannel);
  return { channel: effective.defaultChannel, version: channel?.version ?? null, group: effective.group?.name ?? null };
}
