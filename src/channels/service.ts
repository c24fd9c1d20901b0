import { DEFAULT_ARCH, type Config } from "../config";
import { getChannelConfig, listChannelStates, listUpstreamChannels, replaceChannelStatesStatements } from "../storage/channels";
import { listPublishedVersions } from "../storage/publications";
import { listReleases } from "../storage/releases";
import { isBlocked } from "../policy/blocked";
import { EMPTY_POLICY } from "../policy/schema";
import { getLivePolicyRevision } from "../storage/policy";
import { computeChannelStates, type ChannelState } from "./resolve";
import { invalidateSnapshots } from "./snapshot-cache";

/**
 * Recomputes what every channel answers and stores it. Called after each change to
 * its inputs: a sync step, a config or release import, a publication, a policy change.
 * Versions the org policy blocks are never offerable, so channels resolve around them.
 */
export async function refreshChannelStates(db: D1Database, config: Config, now: string): Promise<ChannelState[]> {
  const [stored, releases, upstream, published, previous, policy] = await Promise.all([
    getChannelConfig(db),
    listReleases(db),
    listUpstreamChannels(db),
    listPublishedVersions(db, DEFAULT_ARCH),
    listChannelStates(db),
    getLivePolicyRevision(db),
  ]);

  const states = computeChannelStates({
    channels: stored.config.channels,
    releases,
    upstream: new Map(upstream.map((row) => [row.name, row.latest])),
    isOfferable: (version) => (config.channelGate === "known" || published.has(version)) && !isBlocked(policy?.document ?? EMPTY_POLICY, version),
    previous,
    now,
  });
  await db.batch(replaceChannelStatesStatements(db, states));
  invalidateSnapshots();
  return states;
}
