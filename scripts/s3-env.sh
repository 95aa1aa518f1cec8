# Sourced by backup-production.sh and restore-production.sh: the AWS CLI configured from the
# server's S3_* settings, without touching the user's AWS configuration files.
if [ -n "${S3_ACCESS_KEY_ID:-}" ]; then export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY_ID; fi
if [ -n "${S3_SECRET_ACCESS_KEY:-}" ]; then export AWS_SECRET_ACCESS_KEY=$S3_SECRET_ACCESS_KEY; fi
export AWS_DEFAULT_REGION=${S3_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
# Plain PUTs without aws-chunked CRC trailers, which MinIO-like servers may reject or mis-store
# (the server's SDK is set the same way; docs/deployment.md).
export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required
endpoint=()
if [ -n "${S3_ENDPOINT:-}" ]; then endpoint=(--endpoint-url "$S3_ENDPOINT"); fi
if [ "${S3_FORCE_PATH_STYLE:-false}" = true ] && [ -z "${AWS_CONFIG_FILE:-}" ]; then
  # Path-style addressing (bucket in the path), as S3_FORCE_PATH_STYLE asks of the server.
  AWS_CONFIG_FILE=$(mktemp)
  export AWS_CONFIG_FILE
  trap 'rm -f "$AWS_CONFIG_FILE"' EXIT
  printf '[default]\ns3 =\n    addressing_style = path\n' >"$AWS_CONFIG_FILE"
fi
