import type { Config } from "../config";

/**
 * Returns the channel a wrapped install follows when neither INSTALL_K3S_CHANNEL,
 * INSTALL_K3S_VERSION nor a `channel` or `version` query parameter names one: the
 * mirror's DEFAULT_CHANNEL. Org policy hooks in here to choose per cluster.
 */
export async function defaultInstallChannel(_db: D1Database, config: Config, _clusterId: string | null): Promise<string> {
  return config.defaultChannel;
}
