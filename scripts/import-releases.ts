/**
 * Imports release files into a running mirror for air-gapped seeding:
 * `npm run import-releases -- <directory | tarball>`.
 *
 * The source is laid out like GitHub's download tree, `<version>/<file>`, as a directory
 * or a .tar, .tar.gz or .tgz of one. Each version's checksum files are uploaded first,
 * then its other files. The mirror verifies each one against its checksum file as sync
 * does, and publishes an architecture only once all its files are verified. A rejected
 * file is reported and skipped. An `install.sh` at the top of the tree is imported as the
 * upstream installer the wrapped install runs. Reads MIRROR_URL and ADMIN_TOKEN.
 *
 * Exit status: 0 when every file was imported, 1 when some were rejected or skipped,
 * 2 on a usage error or when the mirror cannot be reached.
 */
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { extract } from "tar";
import { parseArgsOrExit } from "./lib/cli-args";
import { checksumFilesFirst, uploadFile } from "./lib/release-files";

/** The upstream installer's file name at the top of an export tree. */
const INSTALLER_FILE = "install.sh";

/** A mistake in the arguments or the source tree; reported as one line, with exit status 2. */
class UsageError extends Error {}

const { values, positionals } = parseArgsOrExit({ allowPositionals: true, options: { help: { type: "boolean", default: false } } }, "npm run import-releases");

if (values.help || positionals.length !== 1) {
  console.log(`Usage: npm run import-releases -- <directory | tarball>

Imports <version>/<file> release files (a directory, or a .tar, .tar.gz or .tgz of one)
into a running mirror through its admin API.
Environment: MIRROR_URL (default http://127.0.0.1:8787), ADMIN_TOKEN (required).`);
  process.exit(values.help ? 0 : 2);
}

const baseUrl = (process.env.MIRROR_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
const token = process.env.ADMIN_TOKEN;
if (!token) {
  console.error("ADMIN_TOKEN is not set; export the mirror's admin token and retry");
  process.exit(2);
}

const source = path.resolve(positionals[0]!);
let root = source;
let scratch: string | null = null;
try {
  const info = await stat(source).catch(() => null);
  if (!info) throw new UsageError(`${source} does not exist; pass a directory or a tarball of <version>/<file>`);
  if (info.isFile()) {
    if (!/\.(tar|tar\.gz|tgz)$/.test(source)) throw new UsageError(`${source} is not a directory or a .tar, .tar.gz or .tgz file`);
    scratch = await mkdtemp(path.join(os.tmpdir(), "import-releases-"));
    await extract({ file: source, cwd: scratch, strict: true });
    root = await singleTopDirectory(scratch);
  }

  const entries = await readdir(root, { withFileTypes: true });
  const versions = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  const hasInstaller = entries.some((entry) => entry.isFile() && entry.name === INSTALLER_FILE);
  if (versions.length === 0 && !hasInstaller) throw new UsageError(`${root} has no <version> directories; expected a layout like v1.33.6+k3s1/k3s`);

  let imported = 0;
  const problems: string[] = [];
  if (hasInstaller) {
    const response = await fetch(`${baseUrl}/api/v1/install-script`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "text/plain" },
      body: await readFile(path.join(root, INSTALLER_FILE)),
    });
    const body = (await response.json().catch(() => ({}))) as { sha256?: string; message?: string };
    if (response.status === 401 || response.status === 503) throw new Error(`the mirror rejected the request with HTTP ${response.status}: ${body.message}`);
    if (response.ok) {
      imported += 1;
      console.log(`imported ${INSTALLER_FILE} as the upstream installer (sha256 ${body.sha256})`);
    } else {
      const line = `${INSTALLER_FILE}: rejected (HTTP ${response.status}): ${body.message}`;
      problems.push(line);
      console.log(line);
    }
  }
  for (const version of versions) {
    const files = (await readdir(path.join(root, version), { withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name);
    for (const name of checksumFilesFirst(files)) {
      const file = path.join(root, version, name);
      const size = (await stat(file)).size;
      const { status, body } = await uploadFile(baseUrl, token, `/api/v1/files/${encodeURIComponent(version)}/${encodeURIComponent(name)}`, file, size);
      if (status === 200) {
        imported += 1;
        const published = (body.published as { version: string; arch: string }[]).map((entry) => `${entry.arch}`).join(", ");
        console.log(`imported ${version}/${name} (${size} bytes, sha256 ${body.sha256})${published ? `; published ${version} for ${published}` : ""}`);
        continue;
      }
      if (status === 401 || status === 503) throw new Error(`the mirror rejected the request with HTTP ${status}: ${body.message}`);
      const hashes = body.details?.expectedSha256 || body.details?.actualSha256 ? ` (expected ${body.details.expectedSha256 ?? "?"}, actual ${body.details.actualSha256 ?? "?"})` : "";
      const line = `${version}/${name}: ${status === 422 ? "rejected" : `skipped (HTTP ${status})`}: ${body.message}${hashes}`;
      problems.push(line);
      console.log(line);
    }
  }

  console.log(`\n${imported} file(s) imported, ${problems.length} rejected or skipped`);
  process.exitCode = problems.length > 0 ? 1 : 0;
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 2;
} finally {
  if (scratch) await rm(scratch, { recursive: true, force: true });
}

/** A tarball may hold the version directories at its top or inside one wrapping directory. */
async function singleTopDirectory(directory: string): Promise<string> {
  const entries = await readdir(directory, { withFileTypes: true });
  const only = entries.length === 1 && entries[0]!.isDirectory() ? entries[0]!.name : null;
  if (only && !/^v?\d/.test(only)) return path.join(directory, only);
  return directory;
}
