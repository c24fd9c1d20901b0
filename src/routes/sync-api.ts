import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { requireAdmin } from "../auth";
import type { AppEnv } from "../env";
import { HttpError } from "../errors";
import { adminLogStatement } from "../storage/admin-log";
import { getFile, listVerifiedFiles } from "../storage/files";
import { importReleaseFile } from "../sync/import";
import { buildStatus } from "../sync/status";
import { runSyncStep } from "../sync/step";
import type { VerifyOutcome } from "../sync/verify";
import { canonicalVersion } from "../versions";

/** Largest body of POST /api/v1/sync, whose only option is `{"retryNow": true}`. */
const MAX_SYNC_REQUEST_BYTES = 1024;
/** Largest file the import endpoint accepts; R2 takes up to 5 GiB in one object. */
export const MAX_IMPORT_FILE_BYTES = 5 * 1024 * 1024 * 1024;

/**
 * Admin API of release mirroring under /api/v1: sync steps, status, and file import
 * and export for air-gapped seeding. Every route checks the admin token itself instead
 * of through `use("*")`, because a middleware here would also run for other sub-apps
 * mounted at /api/v1. Mount this before the admin sub-app, whose 1 MiB body limit would
 * otherwise reject file uploads.
 */
export const syncApiRoutes = new Hono<AppEnv>();

const SyncRequest = z.object({ retryNow: z.boolean().default(false) }).strict();

const syncRequestLimit = bodyLimit({
  maxSize: MAX_SYNC_REQUEST_BYTES,
  onError: () => {
    throw new HttpError(413, `sync request body is larger than ${MAX_SYNC_REQUEST_BYTES} bytes; send nothing, or {"retryNow": true}`);
  },
});

syncApiRoutes.post("/sync", requireAdmin, syncRequestLimit, async (c) => {
  const text = await c.req.text();
  let options: z.infer<typeof SyncRequest> = { retryNow: false };
  if (text.trim() !== "") {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'sync request body is not JSON; send nothing, or {"retryNow": true} to retry failed files now');
    }
    const parsed = SyncRequest.safeParse(document);
    if (!parsed.success) throw new HttpError(400, `invalid sync request: ${parsed.error.issues[0]!.message}; send nothing, or {"retryNow": true}`);
    options = parsed.data;
  }

  const result = await runSyncStep({ db: c.env.DB, bucket: c.env.FILES, config: c.get("config"), trigger: "api", retryNow: options.retryNow });
  if ("locked" in result) {
    throw new HttpError(409, `another sync step is running (lease held until ${result.until}); try again when it finishes`, "SyncLocked", { until: result.until });
  }
  console.log(JSON.stringify({ event: "sync_step", trigger: "api", runId: result.runId, downloaded: result.downloaded, verified: result.verified.length, failed: result.failed.length, done: result.done }));
  return c.json(result);
});

syncApiRoutes.get("/status", requireAdmin, async (c) => c.json(await buildStatus(c.env.DB, c.get("config"), new Date().toISOString())));

syncApiRoutes.get("/files", requireAdmin, async (c) => {
  const files = await listVerifiedFiles(c.env.DB);
  return c.json({ files: files.map((file) => ({ version: file.version, file: file.name, arch: file.arch, size: file.size, sha256: file.sha256, origin: file.origin })) });
});

syncApiRoutes.get("/files/:version/:file", requireAdmin, async (c) => {
  const version = requireVersion(c.req.param("version"));
  const name = c.req.param("file");
  const file = await getFile(c.env.DB, version, name);
  if (!file || file.state !== "verified" || !file.objectKey) throw new HttpError(404, `${version}/${name} is not a verified file of this mirror; GET /api/v1/files lists them`);
  const object = await c.env.FILES.get(file.objectKey);
  if (!object) throw new HttpError(503, `${version}/${name} is recorded as verified but its object is missing from storage`);
  return new Response(object.body, {
    headers: { "Content-Type": "application/octet-stream", "Content-Length": String(object.size), ETag: `"${file.sha256}"`, "X-Checksum-Sha256": file.sha256 ?? "" },
  });
});

syncApiRoutes.put("/files/:version/:file", requireAdmin, async (c) => {
  const version = requireVersion(c.req.param("version"));
  const name = c.req.param("file");
  const declared = c.req.header("content-length");
  const size = declared === undefined ? Number.NaN : Number(declared);
  if (!Number.isSafeInteger(size) || size < 0) throw new HttpError(411, "send the file with a Content-Length header; the upload streams into storage, which needs the length first", "LengthRequired");
  if (size > MAX_IMPORT_FILE_BYTES) throw new HttpError(413, `${name} is ${size} bytes; the import accepts up to ${MAX_IMPORT_FILE_BYTES}`);
  const body = c.req.raw.body ?? new Response("").body!;

  const now = new Date().toISOString();
  const logStatement = (outcome: VerifyOutcome) => adminLogStatement(c.env.DB, c.get("adminLabel"), "files.import", { version, file: name, size, ok: outcome.ok }, now);
  const result = await importReleaseFile(c.env.DB, c.env.FILES, c.get("config"), { version, file: name, body, size }, now, logStatement);

  if (!result.outcome.ok) {
    const { outcome } = result;
    return c.json(
      {
        type: "error",
        code: "VerificationFailed",
        status: 422,
        message: `${result.version}/${name} rejected, nothing was published for it: ${outcome.reason}`,
        details: { version: result.version, file: name, kind: outcome.kind, expectedSha256: outcome.expectedSha256, actualSha256: outcome.actualSha256 },
      },
      422,
    );
  }
  return c.json({ version: result.version, file: name, sha256: result.outcome.sha256, size: result.outcome.size, published: result.published });
});

function requireVersion(raw: string): string {
  const version = canonicalVersion(raw);
  if (!version) throw new HttpError(400, `"${raw.slice(0, 80)}" is not a K3s version; expected a form like v1.33.6+k3s1`);
  return version;
}
