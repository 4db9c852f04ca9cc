# kpx — see README.md. `make test` installs the test dependencies when missing.
GO       ?= go
BIN      := bin/kpx
VERSION  ?= $(shell git describe --tags --exact-match 2>/dev/null || echo 0.1.0-dev)
COMMIT   ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all build test test-deps e2e e2e-deps vet demo clean golden golden-playbooks golden-projects bench bench-deps

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

# kpx vs ansible-playbook (pipelining, ControlPersist), Ansible with Mitogen, `ansible -m raw`
# and parallel-ssh on 50 and 200 OpenSSH hosts on loopback; bench/deps installs the peers
# when missing. Slow (Ansible at 200 hosts). Results: bench/results/DATE; method:
# docs/BENCHMARKS.md. KPX_BENCH_HOSTS, KPX_BENCH_RUNS, KPX_BENCH_BUDGET: see bench/peers.
bench-deps:
	@bash bench/deps

bench: bench-deps
	@bash bench/run

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

# Regenerates testdata/projects/*.golden: each project (ansible.cfg, inventory directory,
# roles) run from its own directory by the real ansible-playbook on a fleet of OpenSSH hosts,
# with the files it leaves on them (and checks kpx against them on the way).
golden-projects:
	$(GO) test ./cmd/kpx -run 'TestProjects' -count=1 -update -timeout 30m
