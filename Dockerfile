# syntax=docker/dockerfile:1
#
# One image for every role of MCP Platform: the command picks the role.
#   docker build -t mcp-platform --build-arg VERSION=$(git describe --tags --always) .
#   docker run mcp-platform api | mcp | worker [-orchestrator] [-domains hr] | migrate up | version
# docker-compose.yml runs each role as its own container from this image.

ARG GO_VERSION=1.26.8
ARG NODE_VERSION=22

# --- web UI: web/ -> web/dist (static files, embedded into the binary by web/embed.go) --------
# Debian-based rather than Alpine: Vite's native bundler ships glibc and musl builds, and the
# glibc one is the well-trodden path. The output is platform-independent, so build it once on the
# builder's platform even for multi-platform images.
FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run build

# --- Go binary -------------------------------------------------------------------------------
# -tags slim: the production roles need neither the embedded Temporal server nor its UI (only
# `mcp-platform dev` and `temporal` do), so the image's binary leaves them out.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
# go.mod's toolchain is the one in this image: never download another.
ENV GOTOOLCHAIN=local \
    CGO_ENABLED=0
WORKDIR /src
# Modules first, so that changing the code does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
COPY --from=web /src/web/dist ./web/dist
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -buildvcs=false -trimpath -tags slim \
      -ldflags "-s -w -X mcp-platform/internal/version.Version=${VERSION}" \
      -o /out/mcp-platform ./cmd/mcp-platform

# --- runtime: static binary + settings, no shell, non-root -------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot AS runtime
ARG VERSION=dev
LABEL org.opencontainers.image.title="mcp-platform" \
      org.opencontainers.image.description="MCP Platform: governed tools for an assistant, on Temporal" \
      org.opencontainers.image.version="${VERSION}"
# Settings are looked up relative to the working directory: config/settings.yaml and
# config/domains/*.yaml (MCP_CONFIG and MCP_DOMAINS_DIR point elsewhere, e.g. to a mounted
# volume). Migrations and the web UI are embedded in the binary.
WORKDIR /app
COPY --from=build /out/mcp-platform /usr/local/bin/mcp-platform
COPY config/ /app/config/
# Containers are production; they reach each other over the network, so bind all interfaces.
ENV MCP_ENVIRONMENT=production \
    MCP_HOST=0.0.0.0
USER nonroot:nonroot
# Gateway API (ORCHESTRATOR_PORT), MCP server (MCP_SERVER_PORT).
EXPOSE 8000 8001
ENTRYPOINT ["/usr/local/bin/mcp-platform"]
CMD ["api"]
