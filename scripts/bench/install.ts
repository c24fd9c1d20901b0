/**
 * Install benchmark: a full `curl -sfL <mirror>/ | sh -s -` through a synced mirror,
 * against the installer stand-in run straight from the fake upstream with its channel
 * and download URLs pointed there, both in the install sandbox with dash and curl.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { startFakeUpstream } from "../../test/support/fake-upstream";
import { createInstallSandbox, runCommand } from "../../test/support/install-sandbox";
import { PROJECT_ROOT } from "../../test/support/mirror-process";
import { startBenchMirror, type BenchMirror } from "./mirror";
import type { Section } from "./report";
import { MissingFeatureError, SYNC_TIMEOUT_MS, syncUntilDone } from "./sync";

const STAND_IN_PATH = path.join(PROJECT_ROOT, "test/support/installer-stand-in.sh");
const VERSION = "v1.33.6+k3s1";
/** The shell and downloader the sandbox runs the installs with. */
const SANDBOX_TOOLS = ["dash", "curl"];

export type InstallBenchOptions = { binaryBytes: number; repetitions: number; log: (line: string) => void };

type InstallRun = { route: "mirror" | "upstream"; seconds: number };

/** Runs the install benchmark and returns its report section. */
export async function benchInstall(options: InstallBenchOptions): Promise<Section> {
  const { log } = options;
  const section: Section = {
    id: "install",
    title: "curl | sh install",
    method:
      `Wall time of a complete install of K3s ${VERSION} (amd64 binary of ${options.binaryBytes / 1_000_000} MB) in a sandbox with dash and curl, ` +
      `${options.repetitions === 1 ? "one run each" : `median of ${options.repetitions} runs each, alternating`}: \`curl -sfL <mirror>/ | sh -s -\` through a mirror synced from the fake upstream, ` +
      "against the installer stand-in fetched from the fake upstream and run with INSTALL_K3S_CHANNEL_URL and GITHUB_URL pointing at it. " +
      "Both resolve the stable channel, download the checksum file and the binary, and check its SHA-256; the mirror's wrapper script also resolves the version and checks the version-skew rules through the mirror's API before it runs the installer.",
    columns: ["through the mirror", "straight from upstream"],
    figures: [],
    notes: [],
    skipped: null,
    raw: {},
  };
  if (!existsSync(STAND_IN_PATH)) {
    section.skipped = "the installer stand-in (test/support/installer-stand-in.sh) is missing.";
    return section;
  }
  const missingTools = SANDBOX_TOOLS.filter((tool) => !["/usr/bin", "/bin"].some((directory) => existsSync(path.join(directory, tool))));
  if (missingTools.length > 0) {
    section.skipped = `the install sandbox needs ${missingTools.join(" and ")}; install the Debian packages of the same names.`;
    log(`install: skipped: ${section.skipped}`);
    return section;
  }

  const upstream = await startFakeUpstream({
    releases: [{ version: VERSION, arches: ["amd64"], fileSize: options.binaryBytes }],
    channels: [{ name: "stable", latest: VERSION }],
    installScript: readFileSync(STAND_IN_PATH, "utf8"),
    perPage: 30,
  });
  let mirror: BenchMirror | null = null;
  try {
    // 1. A mirror synced from the fake upstream.
    log("install: starting and syncing the mirror");
    mirror = await startBenchMirror({ ...upstream.mirrorVars, MIRROR_ARCHES: "amd64" });
    try {
      await syncUntilDone(mirror, SYNC_TIMEOUT_MS);
    } catch (error) {
      if (!(error instanceof MissingFeatureError)) throw error;
      section.skipped = `${error.message}.`;
      return section;
    }

    // 2. Installs, alternating between the two routes.
    const expectedSha256 = upstream.sha256Of(VERSION, "k3s");
    const installOnce = async (route: InstallRun["route"]): Promise<InstallRun> => {
      const sandbox = await createInstallSandbox({ shell: "dash", downloader: "curl" });
      try {
        const extra = route === "upstream" ? { INSTALL_K3S_CHANNEL_URL: upstream.channelsUrl, GITHUB_URL: `${upstream.url}/k3s-io/k3s/releases` } : {};
        const url = route === "mirror" ? `${mirror!.url}/` : upstream.installScriptUrl;
        const started = process.hrtime.bigint();
        const result = await sandbox.pipeInstall(url, [], extra);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (result.code !== 0) throw new Error(`install ${route === "mirror" ? "through the mirror" : "from the upstream"} failed with exit code ${result.code}:\n${result.stdout}\n${result.stderr}`);
        const hashed = await runCommand("sha256sum", [path.join(sandbox.binDir, "k3s")]);
        const installedSha256 = hashed.stdout.split(" ")[0];
        if (installedSha256 !== expectedSha256) throw new Error(`install ${route}: the installed k3s has SHA-256 ${installedSha256}, expected ${expectedSha256}`);
        return { route, seconds };
      } finally {
        await sandbox.remove();
      }
    };

    const runs: InstallRun[] = [];
    for (let repetition = 0; repetition < options.repetitions; repetition += 1) {
      runs.push(await installOnce("mirror"));
      runs.push(await installOnce("upstream"));
    }
    const median = (route: InstallRun["route"]) => medianOf(runs.filter((run) => run.route === route).map((run) => run.seconds));
    section.figures.push({ label: "install wall time, median", unit: "s", better: "lower", mirror: median("mirror"), baseline: median("upstream") });
    section.raw = runs;
    log(`install: mirror ${median("mirror").toFixed(2)} s, upstream ${median("upstream").toFixed(2)} s`);
    return section;
  } finally {
    await mirror?.stop();
    await upstream.stop();
  }
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
