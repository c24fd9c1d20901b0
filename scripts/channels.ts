/**
 * Manages a running mirror's channel config and known releases:
 *
 *   npm run channels -- import-config channels.yaml
 *   npm run channels -- import-releases releases.json
 *   npm run channels -- show
 *
 * The mirror is MIRROR_URL (default http://127.0.0.1:8787); ADMIN_TOKEN authenticates.
 */
import { readFile } from "node:fs/promises";
import { describeProblems, parseChannelConfig } from "../src/channels/config";
import { adminClientFromEnv, expectOk } from "./lib/admin-client";

const USAGE = `Usage: npm run channels -- <command>

Commands:
  import-config FILE     import a channel config (channelserver YAML or JSON); validated
                         locally first, then by the mirror, which keeps the live config on error
  import-releases FILE   import releases from a GitHub releases API JSON array
  show                   print the live channel config and the channel collection

Environment: MIRROR_URL (default http://127.0.0.1:8787), ADMIN_TOKEN (required)`;

async function main(argv: string[]): Promise<void> {
  const [command, file] = argv;
  if (!command || command === "--help" || command === "-h") {
    console.log(USAGE);
    return;
  }

  switch (command) {
    case "import-config": {
      const text = await readArgumentFile(file, command);
      const local = parseChannelConfig(text);
      if (!local.ok) throw new Error(`${file}: ${describeProblems(local.problems)}`);
      const client = adminClientFromEnv();
      const result = (await expectOk(await client.request("PUT", "/api/v1/channel-config", text, "application/yaml"), "import-config")) as { imported: number };
      console.log(`imported ${result.imported} channels from ${file} into ${client.baseUrl}`);
      return;
    }
    case "import-releases": {
      const text = await readArgumentFile(file, command);
      const client = adminClientFromEnv();
      const result = (await expectOk(await client.request("PUT", "/api/v1/releases", text, "application/json"), "import-releases")) as { imported: number };
      console.log(`imported ${result.imported} releases from ${file} into ${client.baseUrl}`);
      return;
    }
    case "show": {
      const client = adminClientFromEnv();
      const config = await expectOk(await client.request("GET", "/api/v1/channel-config"), "show");
      const collection = await expectOk(await client.request("GET", "/v1-release/channels"), "show");
      console.log(JSON.stringify({ config, collection }, null, 2));
      return;
    }
    default:
      throw new Error(`unknown command "${command}"\n\n${USAGE}`);
  }
}

async function readArgumentFile(file: string | undefined, command: string): Promise<string> {
  if (!file) throw new Error(`${command} needs a file argument\n\n${USAGE}`);
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
