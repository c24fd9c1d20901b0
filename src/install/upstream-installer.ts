import { getCurrentInstallScript } from "../storage/install-scripts";
import { installScriptKey } from "../storage/keys";
import { MAX_INSTALL_SCRIPT_BYTES } from "../sync/install-script";
import { sha256Hex } from "../sync/transfer";
import type { UpstreamInstaller } from "./script";

const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/**
 * Outcome of reading the upstream installer: `missing` when none was mirrored yet,
 * `unusable` when the stored copy fails its checks (`reason` names the check), else the text.
 */
export type InstallerLookup = { kind: "found"; installer: UpstreamInstaller } | { kind: "missing" } | { kind: "unusable"; reason: string };

/**
 * Reads the most recently seen upstream installer from `install_scripts` and R2, and
 * checks the stored bytes against the row's SHA-256 and size before returning them.
 */
export async function readUpstreamInstaller(db: D1Database, files: R2Bucket): Promise<InstallerLookup> {
  const record = await getCurrentInstallScript(db);
  if (!record) return { kind: "missing" };
  // The hash goes into the script and an R2 key, so only a hex digest is used.
  if (!SHA256_PATTERN.test(record.sha256)) return { kind: "unusable", reason: `the installer record's SHA-256 "${record.sha256.slice(0, 80)}" is not a hex digest` };

  if (record.size > MAX_INSTALL_SCRIPT_BYTES) return { kind: "unusable", reason: `the stored installer ${record.sha256} is ${record.size} bytes, more than the ${MAX_INSTALL_SCRIPT_BYTES} bytes an installer script may have` };
  const object = await files.get(installScriptKey(record.sha256));
  if (!object) return { kind: "unusable", reason: `the installer ${record.sha256} is recorded but its object ${installScriptKey(record.sha256)} is missing from R2` };
  // Checked before reading, so an object larger than its record is never buffered.
  if (object.size !== record.size) {
    void object.body.cancel();
    return { kind: "unusable", reason: `the stored installer object does not match its record (${object.size} bytes; recorded ${record.sha256}, ${record.size} bytes)` };
  }
  const bytes = new Uint8Array(await object.arrayBuffer());

  const actual = await sha256Hex(bytes);
  if (actual !== record.sha256 || bytes.byteLength !== record.size) {
    return { kind: "unusable", reason: `the stored installer object does not match its record (SHA-256 ${actual}, ${bytes.byteLength} bytes; recorded ${record.sha256}, ${record.size} bytes)` };
  }
  if (bytes.includes(0)) return { kind: "unusable", reason: `the stored installer ${record.sha256} contains NUL bytes, so it is not a shell script` };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { kind: "unusable", reason: `the stored installer ${record.sha256} is not valid UTF-8 text` };
  }
  return { kind: "found", installer: { sha256: record.sha256, text, sourceUrl: record.sourceUrl } };
}
