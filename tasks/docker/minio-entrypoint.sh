#!/bin/sh
# Starts MinIO, creates the lake bucket once it is live, then stays in the
# foreground with the server. Used by compose.yaml only.
set -eu
minio server /data --address :9000 --console-address :9001 &
server=$!
trap 'kill -TERM "$server" 2>/dev/null' TERM INT
until curl -fsS http://127.0.0.1:9000/minio/health/live >/dev/null 2>&1; do
  kill -0 "$server" 2>/dev/null || exit 1
  sleep 1
done
mc alias set local http://127.0.0.1:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "local/${S3_BUCKET}"
touch /tmp/bucket-ready
wait "$server"
