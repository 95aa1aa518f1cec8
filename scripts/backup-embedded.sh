#!/usr/bin/env bash
# Backs up an embedded Tessera (PGlite index + filesystem blobs under DATA_DIR) while it runs.
# docs/reliability.md, "Backup and restore", explains why it is consistent.
#
#   TESSERA_URL=http://127.0.0.1:8080 DATA_DIR=/var/lib/tessera [TESSERA_ADMIN_KEY=tsk_…] \
#     scripts/backup-embedded.sh /backups/tessera-2026-12-06
#
# 1. the index FIRST: a snapshot taken by the running server (GET /api/backup/index, admin scope;
#    PGlite belongs to the server process, so nothing else may copy its data directory while it runs);
# 2. THEN the blobs: every row in the snapshot had its blob on disk before the row committed, and
#    blobs are never modified in place, so the copy holds every blob the snapshot refers to. Blobs
#    stored after the snapshot are copied too, as orphans, which `tessera gc` removes after a restore.
set -euo pipefail
out=${1:?usage: backup-embedded.sh BACKUP_DIR (a new or empty directory)}
: "${TESSERA_URL:?set TESSERA_URL, the server's base URL, e.g. http://127.0.0.1:8080}"
: "${DATA_DIR:?set DATA_DIR, the server's data directory}"
[ -d "$DATA_DIR/blobs" ] || { echo "backup-embedded: no blob directory $DATA_DIR/blobs" >&2; exit 2; }
mkdir -p "$out"
[ -z "$(ls -A "$out")" ] || { echo "backup-embedded: $out is not empty" >&2; exit 2; }

# 1. The index. The key goes to curl on stdin (-H @-), never on the command line (visible in ps).
printf 'Authorization: Bearer %s\n' "${TESSERA_ADMIN_KEY:-}" |
  if [ -n "${TESSERA_ADMIN_KEY:-}" ]; then curl -fsS -H @- -o "$out/index.tar.gz.part" "$TESSERA_URL/api/backup/index"
  else curl -fsS -o "$out/index.tar.gz.part" "$TESSERA_URL/api/backup/index"; fi
gzip -t "$out/index.tar.gz.part"
mv "$out/index.tar.gz.part" "$out/index.tar.gz"

# 2. The blobs, without the store's temporary directory (.tmp: writes in progress). A blob deleted
# while tar walks (DELETE, gc, an overwrite's replaced blob) is skipped: tar exits 1 for that, 2 for a
# real failure.
mkdir "$out/blobs"
set +e
tar -C "$DATA_DIR/blobs" --exclude=./.tmp --ignore-failed-read --warning=no-file-removed --warning=no-file-changed -cf - . | tar -C "$out/blobs" -xf -
status=("${PIPESTATUS[@]}")
set -e
if [ "${status[0]}" -gt 1 ] || [ "${status[1]}" -ne 0 ]; then
  echo "backup-embedded: copying the blobs failed (tar: ${status[*]})" >&2
  exit 1
fi
echo "backup-embedded: index snapshot $(du -h "$out/index.tar.gz" | cut -f1), $(find "$out/blobs" -type f | wc -l) blob file(s) in $out"
