-- Release files are uploaded to a fresh R2 key per attempt, because R2 has no rename:
-- `object_key` names the verified object a `files` row serves, so a failed or
-- interrupted attempt never replaces a good file.
ALTER TABLE files ADD COLUMN object_key TEXT;

-- Where an imported file came from: 'upstream' (sync) or 'import' (admin upload).
ALTER TABLE files ADD COLUMN origin TEXT NOT NULL DEFAULT 'upstream';

-- Entries of each verified checksum file (`sha256sum-<arch>.txt`): the hash every
-- other file of that architecture is checked against.
CREATE TABLE checksums (
  version TEXT NOT NULL,
  arch TEXT NOT NULL,
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (version, arch, name)
);
