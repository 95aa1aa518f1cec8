#!/usr/bin/env bash
# Restores a backup made by backup-production.sh into an EMPTY database (create it first:
# createdb) and an empty bucket prefix, with pg_restore and the AWS CLI, using the server's settings
# (DATABASE_URL, S3_*). The server is stopped. Then start it and run `tessera verify`.
#
#   DATABASE_URL=postgres://tessera@db/tessera_restored S3_BUCKET=tessera-restored … \
#     scripts/restore-production.sh /backups/tessera-2026-12-06
set -euo pipefail
backup=${1:?usage: restore-production.sh BACKUP_DIR}
: "${DATABASE_URL:?set DATABASE_URL}" "${S3_BUCKET:?set S3_BUCKET}"
[ -f "$backup/index.dump" ] && [ -d "$backup/blobs" ] || { echo "restore-production: $backup holds no index.dump and blobs/" >&2; exit 2; }
here=$(dirname "$0")
# shellcheck source=scripts/s3-env.sh
. "$here/s3-env.sh"

# Blobs first: should a server start too early, every row it finds has its blob.
aws s3 sync "$backup/blobs/" "s3://$S3_BUCKET/${S3_PREFIX:-}" --only-show-errors "${endpoint[@]}"
# --exit-on-error: a database that is not empty (or a failed statement) stops the restore.
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$DATABASE_URL" "$backup/index.dump"
# Only the part after any credentials is printed.
echo "restore-production: restored into ${DATABASE_URL##*@} and s3://$S3_BUCKET/${S3_PREFIX:-}; start the server, then run: tessera verify"
