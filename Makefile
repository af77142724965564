# KubeGene Execution API server.
#   make local-up   bring up a local cluster with execution-apiserver registered
#   make test       unit, integration and end-to-end tests

GO ?= go
BIN := _output/bin

.PHONY: all build test test-unit verify codegen fmt vet local-up local-down bench fuzz

all: build

build:
	$(GO) build -o $(BIN)/execution-apiserver ./cmd/execution-apiserver

test: vet
	$(GO) test -race -count=1 ./...

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^hack/tools/')); \
	  if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...

verify: vet
	hack/verify-codegen.sh

codegen:
	hack/update-codegen.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/dag/ ./pkg/indexset/ ./apis/execution/validation/

local-up: build
	hack/local-up.sh up

local-down:
	hack/local-up.sh down
