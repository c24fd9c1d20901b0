/**
 * Writes a running mirror's verified release files to a local `<version>/<file>` tree,
 * the layout import-releases reads, so one mirror can seed another across an air gap:
 * `npm run export-releases -- <directory | file.tar.gz> [--version v1.33.6+k3s1 ...]`.
 *
 * Every file is checked against the SHA-256 the mirror recorded before it is kept.
 * Reads MIRROR_URL and ADMIN_TOKEN. Exit status: 0 on success, 1 when a file failed
 * its check, 2 on a usage error or when the mirror cannot be reached.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { create } from "tar";
import { adminClientFromEnv, expectOk } from "./lib/admin-client";
import { parseArgsOrExit } from "./lib/cli-args";

const { values, positionals } = parseArgsOrExit(
  { allowPositionals: true, options: { version: { type: "string", multiple: true }, help: { type: "boolean", default: false } } },
  "npm run export-releases",
);

if (values.help || positionals.length !== 1) {
  console.log(`Usage: npm run export-releases -- <directory | file.tar | file.tar.gz> [--version V ...]

Writes the mirror's verified files as <version>/<file>; a target ending in .tar, .tar.gz
or .tgz is written as a tarball of that tree. --version limits the export to those versions.
Environment: MIRROR_URL (default http://127.0.0.1:8787), ADMIN_TOKEN (required).`);
  process.exit(values.help ? 0 : 2);
}

type ListedFile = { version: string; file: string; size: number; sha256: string };

const target = path.resolve(positionals[0]!);
const tarball = /\.(tar|tar\.gz|tgz)$/.test(target);
let scratch: string | null = null;
try {
  const client = adminClientFromEnv();
  const listing = (await expectOk(await client.request("GET", "/api/v1/files"), "GET /api/v1/files")) as { files: ListedFile[] };
  const wanted = values.version ? new Set(values.version) : null;
  const files = listing.files.filter((file) => !wanted || wanted.has(file.version));
  if (wanted) {
    const missing = [...wanted].filter((version) => !files.some((file) => file.version === version));
    if (missing.length > 0) throw new Error(`the mirror has no verified files for ${missing.join(", ")}`);
  }

  const root = tarball ? (scratch = await mkdtemp(path.join(os.tmpdir(), "export-releases-"))) : target;
  let failures = 0;
  for (const file of files) {
    const directory = path.join(root, file.version);
    await mkdir(directory, { recursive: true });
    const destination = path.join(directory, file.file);
    const partial = `${destination}.part`;
    const response = await client.request("GET", `/api/v1/files/${encodeURIComponent(file.version)}/${encodeURIComponent(file.file)}`);
    if (!response.ok || !response.body) {
      await expectOk(response, `GET ${file.version}/${file.file}`);
      continue;
    }
    const hash = createHash("sha256");
    const hashing = new Transform({
      transform(chunk, _encoding, callback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), hashing, createWriteStream(partial));
    const actual = hash.digest("hex");
    if (actual !== file.sha256) {
      await rm(partial, { force: true });
      console.log(`${file.version}/${file.file}: SHA-256 mismatch (expected ${file.sha256}, got ${actual}); not written`);
      failures += 1;
      continue;
    }
    await rename(partial, destination);
    console.log(`exported ${file.version}/${file.file} (${file.size} bytes)`);
  }

  // The upstream installer goes along, so the seeded mirror can serve the wrapped install.
  await mkdir(root, { recursive: true });
  const installer = await client.request("GET", "/api/v1/install-script");
  let exportedInstaller = false;
  if (installer.status === 404) {
    console.log("the mirror has no installer script yet; install.sh not written");
  } else {
    const text = Buffer.from(await installer.arrayBuffer());
    if (!installer.ok) throw new Error(`GET /api/v1/install-script failed with HTTP ${installer.status}: ${text.toString("utf8").slice(0, 300)}`);
    const expected = installer.headers.get("x-install-script-sha256");
    const actual = createHash("sha256").update(text).digest("hex");
    if (expected !== actual) throw new Error(`the installer script failed its check (expected ${expected}, got ${actual}); not written`);
    await writeFile(path.join(root, "install.sh"), text);
    exportedInstaller = true;
    console.log(`exported install.sh (${text.byteLength} bytes)`);
  }

  if (tarball) {
    const versions = [...new Set(files.map((file) => file.version))].sort();
    await create({ file: target, cwd: root, gzip: /\.(tar\.gz|tgz)$/.test(target), portable: true }, exportedInstaller ? ["install.sh", ...versions] : versions);
    console.log(`wrote ${target}`);
  }
  console.log(`\n${files.length - failures} file(s) exported${failures > 0 ? `, ${failures} failed their check` : ""}`);
  process.exitCode = failures > 0 ? 1 : 0;
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 2;
} finally {
  if (scratch) await rm(scratch, { recursive: true, force: true });
}
