# payoutd's container image: a static binary built from source, on scratch.
#
#   podman build --format docker -t payoutd .      (or docker build -t payoutd .)
#   podman run -d -p 8080:8080 -v payoutd-data:/data \
#     -e PAYOUTD_COINFLOW_WEBHOOK_KEY=... -e PAYOUTD_API_TOKEN=... payoutd
#
# scripts/release builds it with the version stamped in. Where no registry
# can be reached (CI here), `scripts/release --local-builder` first commits a
# builder image made of this machine's Go toolchain and names it in
# BUILDER_IMAGE; the module cache can be mounted at /go/pkg/mod so that the
# build downloads nothing.

# Any image with Go (the version go.mod names), /bin/sh and
# /etc/ssl/certs/ca-certificates.crt.
ARG BUILDER_IMAGE=docker.io/library/golang:1.26.8-bookworm

FROM ${BUILDER_IMAGE} AS build
ARG VERSION=""
ARG COMMIT=""
ARG DATE=""
# Passed through so that a build behind a proxy or a private module mirror
# works: empty means Go's defaults.
ARG GOPROXY=""
ARG GOFLAGS=""
ENV CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOTOOLCHAIN=local
WORKDIR /src
COPY go.mod go.sum ./
RUN GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}" go mod download
COPY . .
RUN go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/usr/bin/payoutd . \
 && mkdir -p /out/etc/ssl/certs /out/data /out/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && chown 65532:65532 /out/data \
 && chmod 0750 /out/data \
 && chmod 1777 /out/tmp

FROM scratch
# CA certificates for the Coinflow client's HTTPS; /tmp for SQLite's
# temporary files; /data, owned by the unprivileged user, for the database.
COPY --from=build /out/ /
USER 65532:65532
ENV PAYOUTD_LISTEN=0.0.0.0:8080 \
    PAYOUTD_DATABASE_URL=sqlite:/data/payoutd.db \
    PAYOUTD_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
# The binary asks its own /readyz (on the configured listen address): a
# scratch image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/usr/bin/payoutd", "healthcheck", "--timeout", "3s"]
ENTRYPOINT ["/usr/bin/payoutd"]
CMD ["serve"]
