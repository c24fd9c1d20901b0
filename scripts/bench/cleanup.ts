/**
 * Stop functions of the servers the benchmark started, so that a run cut short by its
 * deadline or by a signal leaves no mirror, workerd or nginx process behind.
 */
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
