import type { Config } from "../config";
import { getCurrentInstallScript, hasInstallScript, recordInstallScript } from "../storage/install-scripts";
import { installScriptKey } from "../storage/keys";
import { getSetting, putSettingStatement, SETTING_INSTALL_SCRIPT_ETAG } from "../storage/settings";
import type { SubrequestBudget } from "./budget";
import { sha256Hex } from "./transfer";
import { checkStatus, fetchUpstream, readBoundedBytes, UpstreamError } from "./upstream";

/** Largest installer script accepted; the upstream one is about 40 KB. */
export const MAX_INSTALL_SCRIPT_BYTES = 1024 * 1024;

export type InstallScriptResult = { status: "unchanged" | "new" | "seen-before"; sha256: string };

/**
 * Mirrors the upstream installer script: stores its text in R2 under its SHA-256 and
 * records the sighting in `install_scripts`, so the history of versions is kept. A
 * reply that is not a shell script (HTML, empty, no `#!` line) is an UpstreamError and
 * changes nothing.
 */
export async function syncInstallScript(db: D1Database, bucket: R2Bucket, config: Config, budget: SubrequestBudget, now: string): Promise<InstallScriptResult> {
  const url = config.upstream.installScriptUrl;
  const current = await getCurrentInstallScript(db);
  const etag = current ? await getSetting(db, SETTING_INSTALL_SCRIPT_ETAG) : null;

  const response = await fetchUpstream(url, { headers: etag ? { "If-None-Match": etag } : {} }, budget);
  if (response.status === 304 && current) {
    await recordInstallScript(db, current, now);
    return { status: "unchanged", sha256: current.sha256 };
  }
  checkStatus(response, url);
  const contentType = response.headers.get("content-type") ?? "";
  if (/^text\/html/i.test(contentType)) {
    void response.body?.cancel();
    throw new UpstreamError(url, `installer reply is an HTML page (Content-Type ${contentType}), not a shell script`, false);
  }
  const bytes = await readBoundedBytes(response, url, MAX_INSTALL_SCRIPT_BYTES);
  const problem = installScriptProblem(bytes);
  if (problem) throw new UpstreamError(url, `installer reply ${problem}`, false);

  const stored = await storeInstallScript(db, bucket, bytes, url, now, () => budget.take(1));
  const newEtag = response.headers.get("etag");
  if (newEtag) await db.batch([putSettingStatement(db, SETTING_INSTALL_SCRIPT_ETAG, newEtag, now)]);
  return stored;
}

/** Returns why `bytes` is not a shell script (empty, HTML, no `#!` line), or null. */
export function installScriptProblem(bytes: Uint8Array): string | null {
  const head = new TextDecoder().decode(bytes.subarray(0, 2));
  if (head !== "#!") return "does not start with a #! line, so it is not a shell script";
  return null;
}

/**
 * Stores an installer script in R2 under its SHA-256 (once) and records the sighting in
 * `install_scripts`, which makes it the current one. Used by sync and by admin import.
 */
export async function storeInstallScript(
  db: D1Database,
  bucket: R2Bucket,
  bytes: Uint8Array,
  sourceUrl: string,
  now: string,
  onPut: () => void = () => undefined,
): Promise<InstallScriptResult> {
  const current = await getCurrentInstallScript(db);
  const sha256 = await sha256Hex(bytes);
  const key = installScriptKey(sha256);
  if (!(await bucket.head(key))) {
    onPut();
    await bucket.put(key, bytes, { sha256, httpMetadata: { contentType: "text/plain; charset=utf-8" } });
  }
  const seenBefore = current?.sha256 === sha256 || (await hasInstallScript(db, sha256));
  await recordInstallScript(db, { sha256, size: bytes.byteLength, sourceUrl }, now);
  if (!seenBefore) return { status: "new", sha256 };
  return { status: current?.sha256 === sha256 ? "unchanged" : "seen-before", sha256 };
}
