/** Sizes, durations and concurrencies of a full run and of a quick (`--quick`) run. */
const MB_BYTES = 1_000_000;

export type BenchPlan = {
  /** The whole run is stopped, as a failure, after this long. */
  deadlineMinutes: number;
  channels: { concurrencies: number[]; durationSeconds: number };
  downloads: { downloadBytes: number; parallelClients: number[]; rangeSegments: number; rangeRequestBytes: number; rangeDurationSeconds: number };
  memory: { fileSizesBytes: number[] };
  sync: { releases: number; arches: ("amd64" | "arm64" | "arm")[]; binaryBytes: number };
  install: { binaryBytes: number; repetitions: number };
};

/** Returns the plan of a full run, or of a quick run when `quick` is set. */
export function benchPlan(quick: boolean): BenchPlan {
  if (quick) {
    return {
      deadlineMinutes: 5,
      channels: { concurrencies: [1, 16], durationSeconds: 2 },
      downloads: { downloadBytes: 10 * MB_BYTES, parallelClients: [1, 8], rangeSegments: 8, rangeRequestBytes: 1024 * 1024, rangeDurationSeconds: 2 },
      memory: { fileSizesBytes: [5 * MB_BYTES, 10 * MB_BYTES] },
      sync: { releases: 5, arches: ["amd64", "arm64", "arm"], binaryBytes: 1 * MB_BYTES },
      install: { binaryBytes: 1 * MB_BYTES, repetitions: 1 },
    };
  }
  return {
    deadlineMinutes: 14,
    channels: { concurrencies: [1, 16, 64], durationSeconds: 5 },
    downloads: { downloadBytes: 300 * MB_BYTES, parallelClients: [1, 8], rangeSegments: 8, rangeRequestBytes: 1024 * 1024, rangeDurationSeconds: 5 },
    memory: { fileSizesBytes: [100 * MB_BYTES, 300 * MB_BYTES] },
    sync: { releases: 5, arches: ["amd64", "arm64", "arm"], binaryBytes: 20 * MB_BYTES },
    install: { binaryBytes: 70 * MB_BYTES, repetitions: 3 },
  };
}
