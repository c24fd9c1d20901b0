/**
 * A sandbox for running install scripts without changing the machine: temporary
 * INSTALL_K3S_BIN_DIR and INSTALL_K3S_SYSTEMD_DIR, fake `systemctl`, `sudo` and `chown`,
 * and a PATH of symlinks that contains exactly one downloader (curl or wget) and one shell
 * (dash, or busybox with busybox's own tools, as on Alpine).
 *
 * The environment is built from nothing: no variable of the test process (proxies,
 * K3S_*) reaches the script unless a test passes it.
 *
 * @example
 *   const sandbox = await createInstallSandbox({ shell: "dash", downloader: "wget" });
 *   const result = await sandbox.pipeInstall(`${mirror.url}/`, ["server"], { ARCH: "arm64" });
 *   await sandbox.remove();
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { run, type RunResult } from "./run";

export type SandboxShell = "dash" | "busybox";
export type SandboxDownloader = "curl" | "wget";

export type InstallSandbox = {
  root: string;
  binDir: string;
  systemdDir: string;
  /** The PATH the scripts run with: fake tools first, then the symlinked real ones. */
  path: string;
  shell: SandboxShell;
  downloader: SandboxDownloader;
  /** The environment a script gets, with `extra` added (a value of undefined removes a variable). */
  env(extra?: Record<string, string | undefined>): NodeJS.ProcessEnv;
  /** Runs `<downloader> <url> | sh -s - <args>` inside the sandbox, as the README shows. */
  pipeInstall(url: string, args?: string[], extra?: Record<string, string | undefined>): Promise<RunResult>;
  /** Runs a script file with the sandbox's shell. */
  runScript(file: string, args?: string[], extra?: Record<string, string | undefined>): Promise<RunResult>;
  /** Runs a command line with the sandbox's shell. */
  runShell(command: string, args?: string[], extra?: Record<string, string | undefined>): Promise<RunResult>;
  /** Lines the fake systemctl was called with. */
  systemctlCalls(): Promise<string[]>;
  /** Names of the files in BIN_DIR. */
  installedFiles(): Promise<string[]>;
  remove(): Promise<void>;
};

/** Utilities the wrapper and the installer stand-in call, besides the shell and the downloader. */
const TOOLS = ["cat", "chmod", "cp", "cut", "env", "grep", "head", "id", "ln", "mkdir", "mktemp", "mv", "rm", "sed", "sha256sum", "sort", "tail", "tee", "touch", "tr", "uname"];

const FAKE_SYSTEMCTL = `#!/bin/sh
echo "$*" >> "$SANDBOX_SYSTEMCTL_LOG"
exit 0
`;
const FAKE_SUDO = `#!/bin/sh
exec "$@"
`;
const FAKE_CHOWN = `#!/bin/sh
exit 0
`;

/** Creates a sandbox under the system's temporary directory. */
export async function createInstallSandbox(options: { shell: SandboxShell; downloader: SandboxDownloader }): Promise<InstallSandbox> {
  const root = await mkdtemp(path.join(os.tmpdir(), `install-sandbox-${options.shell}-${options.downloader}-`));
  const binDir = path.join(root, "bin");
  const systemdDir = path.join(root, "systemd");
  const fakeDir = path.join(root, "fake");
  const toolDir = path.join(root, "tools");
  const tmpDir = path.join(root, "tmp");
  for (const directory of [binDir, systemdDir, fakeDir, toolDir, tmpDir]) await mkdir(directory);

  for (const [name, text] of [
    ["systemctl", FAKE_SYSTEMCTL],
    ["sudo", FAKE_SUDO],
    ["chown", FAKE_CHOWN],
  ] as const) {
    await writeFile(path.join(fakeDir, name), text);
    await chmod(path.join(fakeDir, name), 0o755);
  }

  const busybox = options.shell === "busybox" ? requireBinary("busybox") : null;
  await symlink(busybox ?? requireBinary("dash"), path.join(toolDir, "sh"));
  for (const tool of TOOLS) await symlink(busybox ?? requireBinary(tool), path.join(toolDir, tool));
  // curl has no busybox applet; wget under busybox is busybox's own, as on Alpine.
  const downloaderTarget = options.downloader === "curl" ? requireBinary("curl") : (busybox ?? requireBinary("wget"));
  await symlink(downloaderTarget, path.join(toolDir, options.downloader));

  const sandboxPath = `${fakeDir}:${toolDir}`;
  const systemctlLog = path.join(root, "systemctl.log");

  const env = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
    const base: Record<string, string | undefined> = {
      PATH: sandboxPath,
      HOME: root,
      TMPDIR: tmpDir,
      LANG: "C",
      SANDBOX_SYSTEMCTL_LOG: systemctlLog,
      INSTALL_K3S_BIN_DIR: binDir,
      INSTALL_K3S_SYSTEMD_DIR: systemdDir,
      INSTALL_K3S_SKIP_START: "true",
      INSTALL_K3S_SKIP_SELINUX_RPM: "true",
      INSTALL_K3S_SYMLINK: "skip",
      ...extra,
    };
    return Object.fromEntries(Object.entries(base).filter((entry): entry is [string, string] => entry[1] !== undefined));
  };

  const shellPath = path.join(toolDir, "sh");

  return {
    root,
    binDir,
    systemdDir,
    path: sandboxPath,
    shell: options.shell,
    downloader: options.downloader,
    env,
    pipeInstall: (url, args = [], extra = {}) => {
      const fetchCommand = options.downloader === "curl" ? `curl -sfL "$0"` : `wget -qO- "$0"`;
      return runCommand(shellPath, ["-c", `${fetchCommand} | sh -s - "$@"`, url, ...args], { env: env(extra), cwd: root });
    },
    runScript: (file, args = [], extra = {}) => runCommand(shellPath, [file, ...args], { env: env(extra), cwd: root }),
    runShell: (command, args = [], extra = {}) => runCommand(shellPath, ["-c", command, ...args], { env: env(extra), cwd: root }),
    systemctlCalls: async () => (existsSync(systemctlLog) ? (await readFile(systemctlLog, "utf8")).split("\n").filter((line) => line.length > 0) : []),
    installedFiles: async () => (await readdir(binDir)).sort(),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** Runs a command with stdin closed; the shared runner, under the name install tests use. */
export const runCommand = run;

/** Finds a program in the usual system directories, or raises naming the package to install. */
function requireBinary(name: string): string {
  for (const directory of ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    const candidate = path.join(directory, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`the install sandbox needs "${name}", which is not installed; install it (for example apt-get install dash busybox curl wget coreutils)`);
}
