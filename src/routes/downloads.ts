import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { HttpError } from "../errors";
import { getFile, listFilesOfVersion } from "../storage/files";
import { listPublications } from "../storage/publications";
import { ifRangeMatches, isNotModified, parseRange } from "../sync/http-range";
import { canonicalVersion } from "../versions";

/**
 * Release files from R2, in GitHub's download layout. Mounted at
 * `/k3s-io/k3s/releases/download` (the installer's `GITHUB_URL`) and at `/k3s` (the
 * artifact URL layout of newer installers). The version segment may be spelled with
 * `+`, `%2B` or `-k3sN`. Only verified files are served, streamed from R2, with
 * single-range and conditional requests.
 *
 * The ETag is the file's SHA-256 in quotes, so it is the same on every mirror that
 * stores the file. Hono's etag() middleware must not be used here: it reads the body.
 */
export const downloadRoutes = new Hono<AppEnv>();

downloadRoutes.get("/:version/:file", serveFile);

const FILE_NAME_PATTERN = /^[A-Za-z0-9._+-]{1,255}$/;

async function serveFile(c: Context<AppEnv, "/:version/:file">) {
  const rawVersion = c.req.param("version");
  const name = c.req.param("file");
  const version = canonicalVersion(rawVersion);
  if (!version) {
    throw new HttpError(404, `"${rawVersion.slice(0, 80)}" is not a K3s version; expected a form like v1.33.6+k3s1 (or v1.33.6%2Bk3s1, v1.33.6-k3s1)`);
  }
  if (!FILE_NAME_PATTERN.test(name)) throw new HttpError(404, `"${name.slice(0, 80)}" is not a release file name`);

  const file = await getFile(c.env.DB, version, name);
  if (!file || file.state !== "verified" || !file.objectKey || file.sha256 === null || file.size === null) {
    throw await describeMissing(c.env.DB, version, name, file?.state ?? null, file?.error ?? null);
  }

  const etag = `"${file.sha256}"`;
  const lastModifiedMs = Date.parse(file.verifiedAt ?? file.updatedAt);
  const headers = new Headers({
    "Content-Type": "application/octet-stream",
    ETag: etag,
    "Last-Modified": new Date(lastModifiedMs).toUTCString(),
    "Accept-Ranges": "bytes",
    "Cache-Control": "public, max-age=86400, immutable",
  });
  if (name.endsWith(".txt")) headers.set("Content-Type", "text/plain; charset=utf-8");

  if (isNotModified({ ifNoneMatch: c.req.header("if-none-match") ?? null, ifModifiedSince: c.req.header("if-modified-since") ?? null }, etag, lastModifiedMs)) {
    return new Response(null, { status: 304, headers });
  }

  const range = ifRangeMatches(c.req.header("if-range") ?? null, etag, lastModifiedMs) ? parseRange(c.req.header("range"), file.size) : { kind: "none" as const };
  if (range.kind === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${file.size}`);
    headers.set("Content-Type", "application/json");
    return new Response(`${JSON.stringify({ type: "error", code: "RangeNotSatisfiable", status: 416, message: `the range "${c.req.header("range")}" is outside the file's ${file.size} bytes` })}\n`, { status: 416, headers });
  }

  const head = c.req.method === "HEAD";
  const offset = range.kind === "range" ? range.start : 0;
  const length = range.kind === "range" ? range.end - range.start + 1 : file.size;
  const object = head ? await c.env.FILES.head(file.objectKey) : await c.env.FILES.get(file.objectKey, range.kind === "range" ? { range: { offset, length } } : {});
  if (!object) {
    console.error(JSON.stringify({ event: "object_missing", version, file: name, key: file.objectKey }));
    throw new HttpError(503, `${version}/${name} is recorded as verified but its object is missing from storage; run a sync to fetch it again`);
  }

  headers.set("Content-Length", String(length));
  const status = range.kind === "range" ? 206 : 200;
  if (range.kind === "range") headers.set("Content-Range", `bytes ${range.start}-${range.end}/${file.size}`);
  const body = head ? null : (object as R2ObjectBody).body;
  return new Response(body, { status, headers });
}

/** Builds the 404 that names what is missing for a version and what it offers instead. */
async function describeMissing(db: D1Database, version: string, name: string, state: string | null, error: string | null): Promise<HttpError> {
  const [files, publications] = await Promise.all([listFilesOfVersion(db, version), listPublications(db)]);
  const available = files.filter((file) => file.state === "verified").map((file) => file.name);
  const published = [...(publications.get(version)?.keys() ?? [])].sort();

  if (files.length === 0 && published.length === 0) {
    const mirrored = [...publications.keys()].sort().reverse().slice(0, 20);
    return new HttpError(404, `${version} is not mirrored${mirrored.length > 0 ? `; mirrored versions include ${mirrored.join(", ")}` : "; nothing is mirrored yet"}`, "NotFound", {
      version,
      file: name,
      available: [],
      mirroredVersions: mirrored,
    });
  }
  let why = "is not mirrored";
  if (state === "failed") why = `could not be mirrored (${error ?? "reason not recorded"}); a later sync retries it`;
  if (state === "pending") why = "is not downloaded yet";
  return new HttpError(404, `${version}/${name} ${why}; available for ${version}: ${available.length > 0 ? available.join(", ") : "none"}`, "NotFound", {
    version,
    file: name,
    state,
    available,
    publishedArches: published,
  });
}
