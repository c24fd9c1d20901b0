/**
 * R2 object keys. Release files are stored under the canonical version spelling.
 *
 * | key                               | object                                   |
 * |-----------------------------------|------------------------------------------|
 * | releases/<version>/<file>         | a verified release file                  |
 * | staging/<version>/<file>/<nonce>  | a download in progress, before its check |
 * | install-scripts/<sha256>          | an upstream installer script             |
 */
export const releaseFileKey = (version: string, file: string) => `releases/${version}/${file}`;
export const stagingKey = (version: string, file: string, nonce: string) => `staging/${version}/${file}/${nonce}`;
export const installScriptKey = (sha256: string) => `install-scripts/${sha256}`;
