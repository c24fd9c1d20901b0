/**
 * Benchmark results: the JSON record written under bench-results/ and its rendering as
 * BENCHMARKS.md. Every figure pairs the mirror with a baseline measured in the same run.
 */
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** One measured quantity for the mirror and its baseline. Null means not measured. */
export type Figure = {
  label: string;
  unit: string;
  /** The good direction of the figure, so that the reader can read the ratio. */
  better: "higher" | "lower";
  mirror: number | null;
  baseline: number | null;
};

export type Section = {
  id: string;
  title: string;
  /** The measuring method, in one or two sentences. */
  method: string;
  /** Column names; the ratio is the first column over the second. */
  columns: [string, string];
  figures: Figure[];
  notes: string[];
  /** Set when the section could not run, with the reason. */
  skipped: string | null;
  /** Raw results of each run, for the JSON record. */
  raw: unknown;
};

export type Machine = {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  node: string;
  nginx: string | null;
  workerd: string | null;
  /** One-minute load averages at the start and the end of the run; other work on the machine skews figures. */
  loadAverage: { start: number; end: number };
};

export type BenchReport = {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  command: string;
  machine: Machine;
  sections: Section[];
};

/** Describes this machine and the software versions under test. */
export function describeMachine(projectRoot: string, nginxVersion: string | null, loadAverageAtStart: number): Machine {
  const cpus = os.cpus();
  let workerd: string | null = null;
  try {
    workerd = JSON.parse(readFileSync(path.join(projectRoot, "node_modules/workerd/package.json"), "utf8")).version;
  } catch {
    workerd = null;
  }
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: nginxVersion,
    workerd,
    loadAverage: { start: loadAverageAtStart, end: os.loadavg()[0]! },
  };
}

/** Returns mirror / baseline, or null when either side is missing or the baseline is zero. */
export function ratioOf(figure: Pick<Figure, "mirror" | "baseline">): number | null {
  if (figure.mirror === null || figure.baseline === null || figure.baseline === 0) return null;
  if (!Number.isFinite(figure.mirror) || !Number.isFinite(figure.baseline)) return null;
  return figure.mirror / figure.baseline;
}

/** Writes the report as JSON under `directory` and returns the file's path. */
export async function writeJsonReport(report: BenchReport, directory: string): Promise<string> {
  await mkdir(directory, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, "-");
  const file = path.join(directory, `bench-${report.quick ? "quick-" : ""}${stamp}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(directory, report.quick ? "latest-quick.json" : "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

const MIB_BYTES = 1024 * 1024;

function formatNumber(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "–";
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function formatRatio(value: number | null): string {
  if (value === null) return "–";
  if (value >= 100) return `${value.toFixed(0)}×`;
  if (value >= 1) return `${value.toFixed(2)}×`;
  return `${value.toPrecision(2)}×`;
}

/** Escapes `|` so that a table cell can contain a shell pipe. */
function escapeCell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

/** Renders the report as the BENCHMARKS.md page. */
export function renderMarkdown(report: BenchReport): string {
  const { machine } = report;
  const lines: string[] = [
    "# Benchmarks",
    "",
    "The mirror measured side by side with a baseline in one run, on one machine. Figures are",
    "given raw and as a ratio, mirror over baseline, because the machine is shared and its",
    "absolute speed varies from run to run; compare ratios between runs, not raw numbers.",
    "",
    `- Date: ${report.startedAt.slice(0, 10)} (run from ${report.startedAt} to ${report.finishedAt})`,
    `- Machine: ${machine.cores} cores (${machine.cpuModel}), ${(machine.memoryBytes / MIB_BYTES / 1024).toFixed(1)} GiB memory, ${machine.kernel}`,
    `- Software: Node ${machine.node}, workerd ${machine.workerd ?? "unknown"} (through Miniflare, as \`npm start\` runs it), nginx ${machine.nginx ?? "not available"}`,
    `- Command: \`${report.command}\``,
    `- One-minute load average: ${machine.loadAverage.start.toFixed(1)} at the start, ${machine.loadAverage.end.toFixed(1)} at the end (other work on the machine skews the figures)`,
    "",
    "Everything runs on 127.0.0.1: the mirror, a fake upstream generating deterministic",
    "release files, nginx, and the clients (autocannon, wrk, curl). The load generators share the",
    "machine's cores with the servers, so the fastest figures are bounded by the clients too.",
    "",
  ];

  for (const section of report.sections) {
    lines.push(`## ${section.title}`, "", section.method, "");
    if (section.skipped) {
      lines.push(`Not measured: ${section.skipped}`, "");
      continue;
    }
    const [first, second] = section.columns.map(escapeCell);
    lines.push(`| Figure | ${first} | ${second} | ${first} / ${second} | better |`, "|---|---:|---:|---:|---|");
    for (const figure of section.figures) {
      lines.push(`| ${escapeCell(figure.label)} (${figure.unit}) | ${formatNumber(figure.mirror)} | ${formatNumber(figure.baseline)} | ${formatRatio(ratioOf(figure))} | ${figure.better} |`);
    }
    lines.push("");
    for (const note of section.notes) lines.push(`- ${note}`);
    if (section.notes.length > 0) lines.push("");
  }

  lines.push("Raw results of each run are written as JSON under `bench-results/` (not committed).", "");
  return lines.join("\n");
}
