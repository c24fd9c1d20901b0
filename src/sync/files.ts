import { ARCH_SUFFIXES, type Arch } from "../config";

/** Architecture of files that serve every architecture (`k3s-images.txt`). */
export const ALL_ARCHES = "all";
export const IMAGES_LIST_NAME = "k3s-images.txt";

export const binaryName = (arch: Arch) => `k3s${ARCH_SUFFIXES[arch]}`;
export const checksumFileName = (arch: Arch) => `sha256sum-${arch}.txt`;

const AIRGAP_PATTERN = /^k3s-airgap-images-(amd64|arm64|arm|s390x)\.tar(\.gz|\.zst)?$/;

/**
 * Returns the architecture a release file belongs to (`all` for `k3s-images.txt`), or
 * null for files the mirror does not track.
 */
export function archOfFile(name: string): Arch | typeof ALL_ARCHES | null {
  if (name === IMAGES_LIST_NAME) return ALL_ARCHES;
  for (const arch of Object.keys(ARCH_SUFFIXES) as Arch[]) {
    if (name === binaryName(arch) || name === checksumFileName(arch)) return arch;
  }
  const airgap = AIRGAP_PATTERN.exec(name);
  return airgap ? (airgap[1] as Arch) : null;
}

export const isChecksumFile = (name: string) => /^sha256sum-(amd64|arm64|arm|s390x)\.txt$/.test(name);

/**
 * Lists the files an architecture needs before it is published: its binary and checksum
 * file, and with airgap enabled `k3s-images.txt` and the airgap image tarballs.
 *
 * The tarballs are those the checksum file lists, or failing that the release's assets.
 * Compressed tarballs (`.tar.gz`, `.tar.zst`) are required when listed, and the plain
 * `.tar` only when no compressed one is, because it is by far the largest. With none
 * listed, `.tar.zst` is required and reported as missing.
 */
export function requiredFiles(arch: Arch, airgap: boolean, listedNames: readonly string[]): string[] {
  const required = [checksumFileName(arch), binaryName(arch)];
  if (!airgap) return required;

  const tarballs = listedNames.filter((name) => AIRGAP_PATTERN.exec(name)?.[1] === arch).sort();
  const compressed = tarballs.filter((name) => !name.endsWith(".tar"));
  let chosen = [`k3s-airgap-images-${arch}.tar.zst`];
  if (tarballs.length > 0) chosen = tarballs;
  if (compressed.length > 0) chosen = compressed;
  return [...required, ...chosen, IMAGES_LIST_NAME];
}
