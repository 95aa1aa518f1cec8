#!/usr/bin/env bash
# Restores a backup made by backup-embedded.sh into an empty DATA_DIR (the server is stopped).
#
#   DATA_DIR=/var/lib/tessera scripts/restore-embedded.sh /backups/tessera-2026-12-06
#
# Then start the server and run `tessera verify` (docs/reliability.md, "Backup and restore").
set -euo pipefail
backup=${1:?usage: restore-embedded.sh BACKUP_DIR}
: "${DATA_DIR:?set DATA_DIR, the data directory to restore into}"
[ -f "$backup/index.tar.gz" ] && [ -d "$backup/blobs" ] || { echo "restore-embedded: $backup holds no index.tar.gz and blobs/" >&2; exit 2; }
for dir in "$DATA_DIR/index" "$DATA_DIR/blobs"; do
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then echo "restore-embedded: $dir is not empty; restore into a fresh DATA_DIR" >&2; exit 2; fi
done
mkdir -p "$DATA_DIR/index" "$DATA_DIR/blobs"
# Blobs first: should a server start on DATA_DIR too early, every row it finds has its blob.
cp -a "$backup/blobs/." "$DATA_DIR/blobs/"
# The snapshot's member names start with "/" (PGlite writes them so); GNU tar strips it, relative to -C.
tar -xzf "$backup/index.tar.gz" -C "$DATA_DIR/index" 2> >(grep -v "Removing leading" >&2)
echo "restore-embedded: restored into $DATA_DIR; start the server, then run: tessera verify"
