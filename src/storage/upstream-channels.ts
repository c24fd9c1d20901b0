import type { UpstreamChannelRow } from "./channels";

export type UpstreamChannelInput = { name: string; latest: string | null; latestRegexp: string | null; excludeRegexp: string | null };

/**
 * Builds the statements that store a good reply of the upstream channel server: one row
 * per channel in reply order, `changed_at` moved only for channels whose `latest`
 * changed, and channels upstream no longer lists removed. Run them in one batch.
 */
export function replaceUpstreamChannelsStatements(
  db: D1Database,
  channels: readonly UpstreamChannelInput[],
  previous: readonly UpstreamChannelRow[],
  now: string,
): D1PreparedStatement[] {
  const before = new Map(previous.map((row) => [row.name, row]));
  const insert = db.prepare(
    "INSERT INTO upstream_channels (name, latest, latest_regexp, exclude_regexp, position, changed_at, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  return [
    db.prepare("DELETE FROM upstream_channels"),
    ...channels.map((channel, position) => {
      const old = before.get(channel.name);
      const changedAt = old && old.latest === channel.latest ? old.changed_at : now;
      return insert.bind(channel.name, channel.latest, channel.latestRegexp, channel.excludeRegexp, position, changedAt, now);
    }),
  ];
}
