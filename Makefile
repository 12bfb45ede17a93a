# MCP Platform. `make dev` runs everything; `make test` runs every test.
GO      ?= go
BIN     := bin/mcp-platform
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X mcp-platform/internal/version.Version=$(VERSION)
export GOTOOLCHAIN := local

.PHONY: dev build test test-go vet lint-openapi openapi tools clean

## dev: build and run the whole stack (private Postgres, Temporal + UI, API, MCP server, workers)
dev: build
	./$(BIN) dev

## build: compile the single binary into bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/mcp-platform

## test: vet, all Go tests (unit + integration on real Postgres and Temporal), OpenAPI lint
test: vet test-go lint-openapi

vet:
	$(GO) vet ./...

test-go:
	$(GO) test -count=1 -timeout 20m ./...

## openapi: regenerate the committed OpenAPI documents from the code
openapi: build
	./$(BIN) openapi -server api -o openapi/gateway.json
	./$(BIN) openapi -server mcp -o openapi/mcp-server.json

tools/openapi-lint/node_modules: tools/openapi-lint/package-lock.json
	cd tools/openapi-lint && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## lint-openapi: Spectral's OpenAPI rules on both documents; warnings fail too
lint-openapi: tools/openapi-lint/node_modules
	cd tools/openapi-lint && npx --no-install spectral lint --fail-severity=warn --ruleset .spectral.yaml \
		../../openapi/gateway.json ../../openapi/mcp-server.json

clean:
	rm -rf bin
