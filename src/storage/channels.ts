import { z } from "zod";
import { ChannelConfig } from "../channels/config";
import { DEFAULT_CHANNEL_CONFIG_YAML } from "../channels/default-config";
import { parseChannelConfig } from "../channels/config";
import type { ChannelState } from "../channels/resolve";

export type StoredChannelConfig = { id: number | null; config: ChannelConfig; importedAt: string | null; importedBy: string | null };

let defaultConfig: ChannelConfig | undefined;

function embeddedDefault(): ChannelConfig {
  if (!defaultConfig) {
    const parsed = parseChannelConfig(DEFAULT_CHANNEL_CONFIG_YAML);
    if (!parsed.ok) throw new Error("the embedded default channel config does not parse");
    defaultConfig = parsed.config;
  }
  return defaultConfig;
}

/** Returns the live channel config: the last one imported, or the embedded default. */
export async function getChannelConfig(db: D1Database): Promise<StoredChannelConfig> {
  const row = await db.prepare("SELECT id, document, imported_at, imported_by FROM channel_configs ORDER BY id DESC LIMIT 1").first<{
    id: number;
    document: string;
    imported_at: string;
    imported_by: string;
  }>();
  if (!row) return { id: null, config: embeddedDefault(), importedAt: null, importedBy: null };
  return { id: row.id, config: ChannelConfig.parse(JSON.parse(row.document)), importedAt: row.imported_at, importedBy: row.imported_by };
}

export function insertChannelConfigStatement(db: D1Database, config: ChannelConfig, source: string, label: string, now: string): D1PreparedStatement {
  return db
    .prepare("INSERT INTO channel_configs (document, source, imported_by, imported_at) VALUES (?, ?, ?, ?)")
    .bind(JSON.stringify(config), source, label, now);
}

const ChannelStateRow = z.object({
  name: z.string(),
  version: z.string().nullable(),
  wanted: z.string().nullable(),
  since: z.string(),
  wanted_since: z.string().nullable(),
});

export async function listChannelStates(db: D1Database): Promise<Map<string, ChannelState>> {
  const { results } = await db.prepare("SELECT * FROM channel_state").all();
  const states = new Map<string, ChannelState>();
  for (const row of results) {
    const parsed = ChannelStateRow.parse(row);
    states.set(parsed.name, { name: parsed.name, version: parsed.version, wanted: parsed.wanted, since: parsed.since, wantedSince: parsed.wanted_since });
  }
  return states;
}

/** Builds the statements that replace every channel state; run them in one batch. */
export function replaceChannelStatesStatements(db: D1Database, states: readonly ChannelState[]): D1PreparedStatement[] {
  const insert = db.prepare("INSERT INTO channel_state (name, version, wanted, since, wanted_since) VALUES (?, ?, ?, ?, ?)");
  return [db.prepare("DELETE FROM channel_state"), ...states.map((state) => insert.bind(state.name, state.version, state.wanted, state.since, state.wantedSince))];
}

const UpstreamChannelRow = z.object({
  name: z.string(),
  latest: z.string().nullable(),
  latest_regexp: z.string().nullable(),
  exclude_regexp: z.string().nullable(),
  position: z.number(),
  changed_at: z.string(),
  fetched_at: z.string(),
});
export type UpstreamChannelRow = z.infer<typeof UpstreamChannelRow>;

export async function listUpstreamChannels(db: D1Database): Promise<UpstreamChannelRow[]> {
  const { results } = await db.prepare("SELECT * FROM upstream_channels ORDER BY position").all();
  return results.map((row) => UpstreamChannelRow.parse(row));
}
