#!/usr/bin/env bash
# Backs up a production Tessera (PostgreSQL index + S3 blobs) while it runs, with pg_dump and the
# AWS CLI, using the server's own settings (DATABASE_URL, S3_BUCKET, S3_PREFIX, S3_ENDPOINT, S3_REGION,
# S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY). docs/reliability.md, "Backup and restore".
#
#   DATABASE_URL=postgres://tessera@db/tessera S3_BUCKET=tessera S3_ENDPOINT=http://minio:9000 \
#     scripts/backup-production.sh /backups/tessera-2026-12-06
#
# 1. the index FIRST: pg_dump (custom format) reads one snapshot of the database;
# 2. THEN the blobs (aws s3 sync of the bucket prefix): every row in the dump had its blob stored
#    before the row committed, and blobs are never modified in place, so the copy holds every blob
#    the dump refers to. Blobs stored after the dump are copied as orphans (`tessera gc`).
set -euo pipefail
out=${1:?usage: backup-production.sh BACKUP_DIR (a new or empty directory)}
: "${DATABASE_URL:?set DATABASE_URL}" "${S3_BUCKET:?set S3_BUCKET}"
mkdir -p "$out"
[ -z "$(ls -A "$out")" ] || { echo "backup-production: $out is not empty" >&2; exit 2; }
here=$(dirname "$0")
# shellcheck source=scripts/s3-env.sh
. "$here/s3-env.sh"

pg_dump --format=custom --no-owner --no-privileges --file="$out/index.dump.part" --dbname="$DATABASE_URL"
mv "$out/index.dump.part" "$out/index.dump"
mkdir "$out/blobs"
aws s3 sync "s3://$S3_BUCKET/${S3_PREFIX:-}" "$out/blobs/" --only-show-errors "${endpoint[@]}"
echo "backup-production: index dump $(du -h "$out/index.dump" | cut -f1), $(find "$out/blobs" -type f | wc -l) blob(s) in $out"
