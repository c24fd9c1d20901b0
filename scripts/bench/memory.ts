/**
 * Resident memory of the workerd processes that run the mirror, read from
 * /proc/<pid>/status (Linux only).
 */
import { readdir, readFile, writeFile } from "node:fs/promises";

const SAMPLE_INTERVAL_MS = 50;
const KIB_BYTES = 1024;

/** Lists the descendants of `rootPid` whose command name is `name`. */
export async function findDescendants(rootPid: number, name: string): Promise<number[]> {
  const parents = new Map<number, { parent: number; command: string }>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      // Fields after the command, which is in parentheses and may hold spaces.
      const close = stat.lastIndexOf(")");
      const command = stat.slice(stat.indexOf("(") + 1, close);
      const parent = Number(stat.slice(close + 2).split(" ")[1]);
      parents.set(Number(entry), { parent, command });
    } catch {
      // The process ended while the list was read.
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let current = parents.get(pid)?.parent; current !== undefined && current > 1; current = parents.get(current)?.parent) {
      if (current === rootPid) return true;
    }
    return false;
  };
  return [...parents.entries()].filter(([pid, info]) => info.command === name && isDescendant(pid)).map(([pid]) => pid);
}

type StatusMemory = { rssBytes: number; hwmBytes: number };

async function readStatusMemory(pid: number): Promise<StatusMemory | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const field = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * KIB_BYTES;
    return { rssBytes: field("VmRSS"), hwmBytes: field("VmHWM") };
  } catch {
    return null;
  }
}

/** Peak memory over one phase, summed over the sampled processes. */
export type MemoryPeak = {
  /** Highest sum of VmRSS seen by sampling every 50 ms. */
  peakRssBytes: number;
  /** Sum of VmHWM at the end, when the kernel accepted the reset at the start of the phase. */
  hwmBytes: number | null;
  /** VmRSS sum before the phase started. */
  startRssBytes: number;
  samples: number;
};

/**
 * Samples the processes' resident memory until `stop()` is called. At the start it
 * resets each process's high-water mark (VmHWM) through /proc/<pid>/clear_refs, which
 * needs the right to write there (root or the same user), so that VmHWM then covers
 * this phase alone; when the reset fails, only the sampled peak is reported.
 */
export async function startMemorySampler(pids: readonly number[]): Promise<{ stop: () => Promise<MemoryPeak> }> {
  let hwmReset = true;
  for (const pid of pids) {
    try {
      // "5" resets the peak resident set size to the current one (proc(5), Linux 4.0+).
      await writeFile(`/proc/${pid}/clear_refs`, "5");
    } catch {
      hwmReset = false;
    }
  }

  const sumRss = async () => {
    let total = 0;
    for (const pid of pids) total += (await readStatusMemory(pid))?.rssBytes ?? 0;
    return total;
  };
  const startRssBytes = await sumRss();
  let peakRssBytes = startRssBytes;
  let samples = 1;
  let running = true;
  const loop = (async () => {
    while (running) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_INTERVAL_MS));
      peakRssBytes = Math.max(peakRssBytes, await sumRss());
      samples += 1;
    }
  })();

  return {
    stop: async () => {
      running = false;
      await loop;
      let hwmBytes = 0;
      for (const pid of pids) hwmBytes += (await readStatusMemory(pid))?.hwmBytes ?? 0;
      peakRssBytes = Math.max(peakRssBytes, await sumRss());
      return { peakRssBytes, hwmBytes: hwmReset ? hwmBytes : null, startRssBytes, samples };
    },
  };
}
