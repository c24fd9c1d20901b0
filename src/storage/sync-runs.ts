import { z } from "zod";

const SyncRunRow = z.object({
  id: z.number(),
  trigger: z.string(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  done: z.number().nullable(),
  summary: z.string().nullable(),
});

/** A recorded sync step; `summary` is the JSON the step returned, null while it runs. */
export type SyncRun = {
  id: number;
  trigger: string;
  startedAt: string;
  finishedAt: string | null;
  done: boolean | null;
  summary: unknown;
};

export type SyncTrigger = "cron" | "api" | "import";

/** Records the start of a step and returns its id. */
export async function startSyncRun(db: D1Database, trigger: SyncTrigger, now: string): Promise<number> {
  const row = await db.prepare("INSERT INTO sync_runs (trigger, started_at) VALUES (?, ?) RETURNING id").bind(trigger, now).first<{ id: number }>();
  if (!row) throw new Error("inserting into sync_runs returned no id");
  return row.id;
}

export async function finishSyncRun(db: D1Database, id: number, done: boolean, summary: unknown, now: string): Promise<void> {
  await db
    .prepare("UPDATE sync_runs SET finished_at = ?, done = ?, summary = ? WHERE id = ?")
    .bind(now, done ? 1 : 0, JSON.stringify(summary), id)
    .run();
}

/** Returns the latest step, finished or not. */
export async function getLastSyncRun(db: D1Database): Promise<SyncRun | null> {
  const row = await db.prepare("SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1").first();
  if (!row) return null;
  const parsed = SyncRunRow.parse(row);
  return {
    id: parsed.id,
    trigger: parsed.trigger,
    startedAt: parsed.started_at,
    finishedAt: parsed.finished_at,
    done: parsed.done === null ? null : parsed.done === 1,
    summary: parsed.summary === null ? null : JSON.parse(parsed.summary),
  };
}
