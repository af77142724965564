# KubeGene Execution API server.
#   make local-up   bring up a local cluster with execution-apiserver registered
#   make test       unit, integration and end-to-end tests

GO ?= go
BIN := _output/bin

.PHONY: all build test test-unit verify codegen fmt vet local-up local-down bench fuzz install-plugin

all: build

build:
	$(GO) build -o $(BIN)/execution-apiserver ./cmd/execution-apiserver
	$(GO) build -o $(BIN)/kubectl-execution ./cmd/kubectl-execution

# The kubectl plugin, into a directory on your PATH: make install-plugin PLUGIN_DIR=~/bin
PLUGIN_DIR ?= /usr/local/bin
install-plugin:
	$(GO) build -o $(BIN)/kubectl-execution ./cmd/kubectl-execution
	install -m 0755 $(BIN)/kubectl-execution $(PLUGIN_DIR)/kubectl-execution

# test/e2e starts the local stack itself (and stops it) unless one is up.
test: vet
	$(GO) test -race -count=1 -timeout 80m ./...

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

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzAdmitAndRender -fuzztime $(FUZZTIME) ./registry/execution/
	$(GO) test -run '^$$' -fuzz FuzzBuild -fuzztime $(FUZZTIME) ./pkg/dag/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./pkg/indexset/

local-up: build
	hack/local-up.sh up

local-down:
	hack/local-up.sh down
