/**
 * Stop functions of the servers the benchmark started, so that a run cut short by its
 * deadline or by a signal leaves no mirror, workerd or nginx process behind. Also the run
 * lock, which keeps two runs from sharing the machine's cores and skewing each other.
 */
import { mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";

const active = new Set<() => Promise<void>>();

/** Registers a stop function and returns the function that unregisters it. */
export function registerCleanup(stop: () => Promise<void>): () => void {
  active.add(stop);
  return () => active.delete(stop);
}

/** Calls every registered stop function, ignoring their failures. */
export async function runCleanups(): Promise<void> {
  const stops = [...active];
  active.clear();
  await Promise.allSettled(stops.map((stop) => stop()));
}

/**
 * Takes the run lock, a file holding this process's id in `directory`. Raises when a live
 * process holds it; a lock left by a process that has ended is taken over. Returns the
 * function that releases it.
 */
export async function acquireRunLock(directory: string): Promise<() => Promise<void>> {
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, "run.lock");
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(await readFile(file, "utf8").catch(() => ""));
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new Error(`another benchmark run (process ${holder}) is in progress, and two runs would skew each other's figures; wait for it to finish`);
      }
      await rm(file, { force: true });
    }
  }
  throw new Error(`could not take the benchmark lock ${file}; remove it if no benchmark is running`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
