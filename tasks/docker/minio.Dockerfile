# MinIO for compose.yaml, built from the same pinned source as native mode
# (MinIO's community edition is source-only since October 2025, and its
# prebuilt images are gone). Keep MINIO_VERSION equal to stack.minioVersion in
# lib/config.defaults.yaml; tests/compose_test.ts checks it.
FROM golang:1.26-bookworm AS build
ARG MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
# mc at the version MinIO's own go.mod pins, to create the bucket on start.
ARG MC_VERSION=v0.0.0-20250313080218-cf909e1063a9
ENV CGO_ENABLED=0 GOBIN=/out
RUN go install github.com/minio/minio@${MINIO_VERSION} \
 && go install github.com/minio/mc@${MC_VERSION}

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/minio /out/mc /usr/local/bin/
COPY minio-entrypoint.sh /usr/local/bin/minio-entrypoint.sh
EXPOSE 9000 9001
ENTRYPOINT ["sh", "/usr/local/bin/minio-entrypoint.sh"]
