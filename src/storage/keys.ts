/**
 * R2 object keys. Release files are stored under the canonical version spelling.
 *
 * | key                                   | object                                         |
 * |---------------------------------------|------------------------------------------------|
 * | releases/<version>/<file>/<upload id> | one upload of a release file                   |
 * | install-scripts/<sha256>              | an upstream installer script                   |
 *
 * R2 has no rename, so each upload of a release file gets its own key and the `files`
 * row's `object_key` names the upload that passed verification. Uploads that fail are
 * deleted; a verified file is never overwritten in place.
 */
export const releaseFilePrefix = (version: string, file: string) => `releases/${version}/${file}/`;
export const releaseUploadKey = (version: string, file: string, uploadId: string) => `${releaseFilePrefix(version, file)}${uploadId}`;
export const installScriptKey = (sha256: string) => `install-scripts/${sha256}`;
