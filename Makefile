# kpx — see README.md. `make test` installs the test dependencies when missing.
GO       ?= go
BIN      := bin/kpx
VERSION  ?= $(shell git describe --tags --exact-match 2>/dev/null || echo 0.1.0-dev)
COMMIT   ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all build test test-deps e2e e2e-deps vet demo clean golden golden-playbooks

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/kpx

test-deps:
	@bash scripts/test-deps

vet:
	$(GO) vet ./...

test: test-deps vet
	$(GO) test -race -count=1 -timeout 50m ./...

# Real-kernel end-to-end tests: qemu VMs booting a Debian kernel, kpx rolling a live patch
# out and back (test/e2e, internal/vmfleet). scripts/e2e-deps installs qemu, the kernel and
# its headers when missing (root needed the first time).
e2e-deps:
	@bash scripts/e2e-deps

e2e: e2e-deps
	$(GO) test -tags e2e -count=1 -timeout 45m -v ./internal/vmfleet ./test/e2e

demo: build
	$(BIN) demo

clean:
	rm -rf bin

golden:
	@bash scripts/inventory-golden

# Regenerates testdata/playbooks/suite/*.golden with the real ansible-playbook on a fleet of
# ten OpenSSH hosts (and checks kpx against them on the way). Slow: Ansible runs each playbook.
golden-playbooks:
	KPX_SUITE_PARALLEL=$${KPX_SUITE_PARALLEL:-6} $(GO) test ./cmd/kpx -run 'TestPlaybookSuite|TestSummarize' -count=1 -update -timeout 90m
