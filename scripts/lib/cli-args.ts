import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * Parses command-line arguments as `parseArgs` does, but reports a usage mistake (an
 * unknown option, a missing value) as one line and exit status 2 instead of a stack trace.
 *
 * @example const { values } = parseArgsOrExit({ options: { help: { type: "boolean" } } }, "npm run sync");
 */
export function parseArgsOrExit<T extends ParseArgsConfig>(config: T, command: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    console.error(`error: ${(error as Error).message}\nRun \`${command} -- --help\` for the usage.`);
    process.exit(2);
  }
}
