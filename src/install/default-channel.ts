import type { Config } from "../config";
import { effectiveDefaultChannel } from "../policy";

/**
 * Returns the channel a wrapped install follows when neither INSTALL_K3S_CHANNEL,
 * INSTALL_K3S_VERSION nor a `channel` or `version` query parameter names one: the org
 * policy's default channel for the cluster's group, else the policy's default, else the
 * mirror's DEFAULT_CHANNEL.
 */
export async function defaultInstallChannel(db: D1Database, config: Config, clusterId: string | null): Promise<string> {
  return (await effectiveDefaultChannel(db, config, clusterId)).channel;
}
