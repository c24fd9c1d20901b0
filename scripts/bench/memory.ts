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

type StatusMemory = { rssBytes: number; anonBytes: number; hwmBytes: number };

async function readStatusMemory(pid: number): Promise<StatusMemory | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const field = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * KIB_BYTES;
    return { rssBytes: field("VmRSS"), anonBytes: field("RssAnon"), hwmBytes: field("VmHWM") };
  } catch {
    return null;
  }
}

/** Peak memory over one phase, summed over the sampled processes. */
export type MemoryPeak = {
  /** Highest sum of VmRSS seen by sampling every 50 ms. */
  peakRssBytes: number;
  /**
   * Highest sum of RssAnon (heap and other private memory) seen by sampling. VmRSS also
   * counts file pages mapped by the process, which the kernel can reclaim.
   */
  peakAnonBytes: number;
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

  const sum = async () => {
    const total = { rssBytes: 0, anonBytes: 0 };
    for (const pid of pids) {
      const memory = await readStatusMemory(pid);
      total.rssBytes += memory?.rssBytes ?? 0;
      total.anonBytes += memory?.anonBytes ?? 0;
    }
    return total;
  };
  const start = await sum();
  const startRssBytes = start.rssBytes;
  let peakRssBytes = start.rssBytes;
  let peakAnonBytes = start.anonBytes;
  let samples = 1;
  let running = true;
  const sample = async () => {
    const current = await sum();
    peakRssBytes = Math.max(peakRssBytes, current.rssBytes);
    peakAnonBytes = Math.max(peakAnonBytes, current.anonBytes);
    samples += 1;
  };
  const loop = (async () => {
    while (running) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_INTERVAL_MS));
      await sample();
    }
  })();

  return {
    stop: async () => {
      running = false;
      await loop;
      let hwmBytes = 0;
      for (const pid of pids) hwmBytes += (await readStatusMemory(pid))?.hwmBytes ?? 0;
      await sample();
      return { peakRssBytes, peakAnonBytes, hwmBytes: hwmReset ? hwmBytes : null, startRssBytes, samples };
    },
  };
}
