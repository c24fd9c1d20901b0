import { z } from "zod";
import type { InventoryNode } from "../skew/fleet";
import type { ClusterOffer } from "../skew/offer";

/**
 * Fleet inventory in D1: `clusters`, `nodes`, `reports` and `cluster_offers`. Versions are
 * stored in the canonical `+k3sN` spelling; times are ISO 8601 strings in UTC.
 */

const ClusterRow = z.object({
  id: z.string(),
  first_seen_at: z.string(),
  last_seen_at: z.string(),
  suc_latest_version: z.string().nullable(),
  suc_seen_at: z.string().nullable(),
});

export type StoredCluster = {
  readonly id: string;
  readonly firstSeenAt: string;
  readonly lastSeenAt: string;
  readonly sucLatestVersion: string | null;
  readonly sucSeenAt: string | null;
};

function toCluster(row: unknown): StoredCluster {
  const parsed = ClusterRow.parse(row);
  return { id: parsed.id, firstSeenAt: parsed.first_seen_at, lastSeenAt: parsed.last_seen_at, sucLatestVersion: parsed.suc_latest_version, sucSeenAt: parsed.suc_seen_at };
}

const NodeRow = z.object({
  cluster_id: z.string(),
  name: z.string(),
  role: z.enum(["server", "agent"]),
  version: z.string().nullable(),
  last_seen_at: z.string(),
});

export type StoredNode = InventoryNode & { readonly clusterId: string };

function toNode(row: unknown): StoredNode {
  const parsed = NodeRow.parse(row);
  return { clusterId: parsed.cluster_id, name: parsed.name, role: parsed.role, version: parsed.version, lastSeenAt: parsed.last_seen_at };
}

const ReportRow = z.object({
  id: z.number(),
  cluster_id: z.string(),
  node_name: z.string(),
  role: z.string(),
  phase: z.string(),
  version_before: z.string().nullable(),
  version_after: z.string().nullable(),
  outcome: z.string(),
  override_used: z.number(),
  received_at: z.string(),
});

export type StoredReport = {
  readonly id: number;
  readonly node: string;
  readonly role: string;
  readonly phase: string;
  readonly versionBefore: string | null;
  readonly versionAfter: string | null;
  readonly outcome: string;
  readonly overrideUsed: boolean;
  readonly receivedAt: string;
};

const OfferRow = z.object({ cluster_id: z.string(), channel: z.string(), version: z.string(), offered_at: z.string() });

/** An install script's report, validated and normalised. */
export type NodeReport = {
  readonly cluster: string;
  readonly node: string;
  readonly role: "server" | "agent";
  readonly phase: "before" | "after";
  readonly versionBefore: string | null;
  readonly versionAfter: string | null;
  readonly outcome: string;
  readonly overrideUsed: boolean;
};

/**
 * Builds the statements that store a report and update the inventory; run them in one
 * batch. The node's version becomes the version the report gives as running: `versionAfter` of an
 * after-report when present, else `versionBefore`, else the version already stored.
 */
export function recordReportStatements(db: D1Database, report: NodeReport, now: string): D1PreparedStatement[] {
  const running = (report.phase === "after" ? report.versionAfter : null) ?? report.versionBefore;
  return [
    touchClusterStatement(db, report.cluster, now),
    db
      .prepare(
        `INSERT INTO nodes (cluster_id, name, role, version, last_seen_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (cluster_id, name) DO UPDATE SET role = excluded.role,
           version = COALESCE(excluded.version, nodes.version), last_seen_at = excluded.last_seen_at`,
      )
      .bind(report.cluster, report.node, report.role, running, now),
    db
      .prepare(
        `INSERT INTO reports (cluster_id, node_name, role, phase, version_before, version_after, outcome, override_used, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(report.cluster, report.node, report.role, report.phase, report.versionBefore, report.versionAfter, report.outcome, report.overrideUsed ? 1 : 0, now),
  ];
}

/** Builds the statement that records a cluster as seen now, creating its row on first sight. */
export function touchClusterStatement(db: D1Database, clusterId: string, now: string): D1PreparedStatement {
  return db
    .prepare("INSERT INTO clusters (id, first_seen_at, last_seen_at) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at")
    .bind(clusterId, now, now);
}

/** Builds the statement that stores a Plan's X-SUC-Latest-Version (canonical spelling) on its cluster. */
export function recordSucVersionStatement(db: D1Database, clusterId: string, version: string, now: string): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO clusters (id, first_seen_at, last_seen_at, suc_latest_version, suc_seen_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at, suc_latest_version = excluded.suc_latest_version, suc_seen_at = excluded.suc_seen_at`,
    )
    .bind(clusterId, now, now, version, now);
}

export async function getCluster(db: D1Database, clusterId: string): Promise<StoredCluster | null> {
  const row = await db.prepare("SELECT * FROM clusters WHERE id = ?").bind(clusterId).first();
  return row ? toCluster(row) : null;
}

/** Lists every cluster, most recently seen first. */
export async function listClusters(db: D1Database): Promise<StoredCluster[]> {
  const { results } = await db.prepare("SELECT * FROM clusters ORDER BY last_seen_at DESC, id").all();
  return results.map(toCluster);
}

/** Lists a cluster's nodes, servers first, by name. */
export async function listNodes(db: D1Database, clusterId: string): Promise<StoredNode[]> {
  const { results } = await db.prepare("SELECT * FROM nodes WHERE cluster_id = ? ORDER BY role DESC, name").bind(clusterId).all();
  return results.map(toNode);
}

/** Lists every node of every cluster, grouped by cluster id. */
export async function listAllNodes(db: D1Database): Promise<Map<string, StoredNode[]>> {
  const { results } = await db.prepare("SELECT * FROM nodes ORDER BY cluster_id, role DESC, name").all();
  const byCluster = new Map<string, StoredNode[]>();
  for (const row of results) {
    const node = toNode(row);
    const list = byCluster.get(node.clusterId) ?? [];
    list.push(node);
    byCluster.set(node.clusterId, list);
  }
  return byCluster;
}

/** Lists a cluster's latest reports, newest first. */
export async function listReports(db: D1Database, clusterId: string, limit: number): Promise<StoredReport[]> {
  const { results } = await db.prepare("SELECT * FROM reports WHERE cluster_id = ? ORDER BY id DESC LIMIT ?").bind(clusterId, limit).all();
  return results.map((row) => {
    const parsed = ReportRow.parse(row);
    return {
      id: parsed.id,
      node: parsed.node_name,
      role: parsed.role,
      phase: parsed.phase,
      versionBefore: parsed.version_before,
      versionAfter: parsed.version_after,
      outcome: parsed.outcome,
      overrideUsed: parsed.override_used === 1,
      receivedAt: parsed.received_at,
    };
  });
}

export async function getClusterOffer(db: D1Database, clusterId: string, channel: string): Promise<ClusterOffer | null> {
  const row = await db.prepare("SELECT * FROM cluster_offers WHERE cluster_id = ? AND channel = ?").bind(clusterId, channel).first();
  if (!row) return null;
  const parsed = OfferRow.parse(row);
  return { version: parsed.version, offeredAt: parsed.offered_at };
}

/** Lists what each channel last offered a cluster. */
export async function listClusterOffers(db: D1Database, clusterId: string): Promise<{ channel: string; version: string; offeredAt: string }[]> {
  const { results } = await db.prepare("SELECT * FROM cluster_offers WHERE cluster_id = ? ORDER BY channel").bind(clusterId).all();
  return results.map((row) => {
    const parsed = OfferRow.parse(row);
    return { channel: parsed.channel, version: parsed.version, offeredAt: parsed.offered_at };
  });
}

export function putClusterOfferStatement(db: D1Database, clusterId: string, channel: string, offer: ClusterOffer): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO cluster_offers (cluster_id, channel, version, offered_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (cluster_id, channel) DO UPDATE SET version = excluded.version, offered_at = excluded.offered_at`,
    )
    .bind(clusterId, channel, offer.version, offer.offeredAt);
}
