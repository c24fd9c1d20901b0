import type { Arch } from "../config";
import type { SubrequestBudget } from "./budget";
import { MAX_CHECKSUM_FILE_BYTES } from "./checksums";
import { isChecksumFile } from "./files";
import type { WorkItem } from "./plan";
import { checkStatus, describeError, fetchUpstream, readBoundedBytes, UpstreamError } from "./upstream";
import { recordRejection, storeAndVerifyChecksumFile, storeAndVerifyFile, type VerifyContext, type VerifyOutcome } from "./verify";

/** A download that delivers no byte for this long is abandoned and retried later. */
export const DOWNLOAD_IDLE_TIMEOUT_MS = 60_000;
/** Download URLs of GitHub redirect once to the object store: two subrequests per file. */
export const DOWNLOAD_SUBREQUESTS = 2;

/**
 * Downloads one release file from upstream and verifies it (see storeAndVerifyFile).
 * Upstream faults seen before the body (5xx, refused connections, HTML, a length that
 * differs from the release listing) are recorded as failed attempts with a retry time.
 */
export async function downloadFile(context: VerifyContext, budget: SubrequestBudget, item: WorkItem): Promise<VerifyOutcome> {
  const file = { version: item.version, name: item.name, arch: item.arch, attempts: item.attempts };
  const digest = item.asset.digest ? item.asset.digest.slice("sha256:".length) : null;
  const expectedHash = isChecksumFile(item.name) ? digest : item.expectedSha256;
  const url = item.asset.browser_download_url;
  if (!isChecksumFile(item.name) && item.expectedSha256 === null) {
    return recordRejection(context, file, "not-listed", `${item.name} is not listed in the checksum file of its architecture, so it cannot be verified`, null);
  }

  const idle = new AbortController();
  let idleTimer = setTimeout(() => idle.abort(new Error(`no data for ${DOWNLOAD_IDLE_TIMEOUT_MS} ms`)), DOWNLOAD_IDLE_TIMEOUT_MS);
  const onChunk = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => idle.abort(new Error(`no data for ${DOWNLOAD_IDLE_TIMEOUT_MS} ms`)), DOWNLOAD_IDLE_TIMEOUT_MS);
  };

  try {
    let response: Response;
    try {
      response = await fetchUpstream(url, { hops: DOWNLOAD_SUBREQUESTS }, budget, idle.signal);
      checkStatus(response, url);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      return recordRejection(context, file, "transient", `${error.message} (${url})`, expectedHash);
    }

    const contentType = response.headers.get("content-type") ?? "";
    if (/^text\/html/i.test(contentType)) {
      void response.body?.cancel();
      return recordRejection(context, file, "html", `upstream sent an HTML page (Content-Type ${contentType}) instead of the file`, expectedHash);
    }
    const declared = response.headers.get("content-length");
    const length = declared === null ? Number.NaN : Number(declared);
    if (!Number.isSafeInteger(length) || length !== item.asset.size) {
      void response.body?.cancel();
      const problem = declared === null ? "no Content-Length" : `Content-Length ${declared}`;
      return recordRejection(context, file, "size", `upstream sent ${problem}, but the release lists ${item.asset.size} bytes`, expectedHash);
    }

    if (isChecksumFile(item.name)) {
      let bytes: Uint8Array;
      try {
        bytes = await readBoundedBytes(response, url, MAX_CHECKSUM_FILE_BYTES);
      } catch (error) {
        return recordRejection(context, file, error instanceof UpstreamError && !error.transient ? "size" : "transient", describeError(error), expectedHash);
      }
      return storeAndVerifyChecksumFile(context, { ...file, arch: item.arch as Arch }, bytes, { size: item.asset.size, digest });
    }
    if (!response.body) return recordRejection(context, file, "size", "upstream sent no body", expectedHash);
    return await storeAndVerifyFile(context, file, response.body, length, { checksum: item.expectedSha256, digest }, onChunk);
  } finally {
    clearTimeout(idleTimer);
  }
}
