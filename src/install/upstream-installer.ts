import { z } from "zod";
import { installScriptKey } from "../storage/keys";
import type { UpstreamInstaller } from "./script";

/** Largest upstream installer the mirror serves; the real one is about 40 KB. */
export const MAX_INSTALLER_BYTES = 1024 * 1024;

const InstallScriptRow = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  source_url: z.string(),
  last_seen_at: z.string(),
});

/**
 * Outcome of reading the upstream installer: `missing` when none was mirrored yet,
 * `unusable` when the stored copy fails its checks (the reason says which), else the text.
 */
export type InstallerLookup = { kind: "found"; installer: UpstreamInstaller } | { kind: "missing" } | { kind: "unusable"; reason: string };

/**
 * Reads the most recently seen upstream installer from `install_scripts` and R2, and
 * checks the stored bytes against the row's SHA-256 and size before returning them.
 */
export async function readUpstreamInstaller(db: D1Database, files: R2Bucket): Promise<InstallerLookup> {
  const row = await db.prepare("SELECT sha256, size, source_url, last_seen_at FROM install_scripts ORDER BY last_seen_at DESC, first_seen_at DESC LIMIT 1").first();
  if (!row) return { kind: "missing" };
  const record = InstallScriptRow.parse(row);

  if (record.size > MAX_INSTALLER_BYTES) return { kind: "unusable", reason: `the stored installer ${record.sha256} is ${record.size} bytes, more than the ${MAX_INSTALLER_BYTES} bytes an installer script may have` };
  const object = await files.get(installScriptKey(record.sha256));
  if (!object) return { kind: "unusable", reason: `the installer ${record.sha256} is recorded but its object ${installScriptKey(record.sha256)} is missing from R2` };
  const bytes = new Uint8Array(await object.arrayBuffer());

  const actual = toHex(await crypto.subtle.digest("SHA-256", bytes));
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
  return { kind: "found", installer: { sha256: record.sha256, text, sourceUrl: record.source_url } };
}

function toHex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
