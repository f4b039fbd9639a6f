# Paceline. `make demo` shows a local cluster at work; `make test` runs
# every test (installing what they need first).
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
BIN := bin/paceline
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# fail at the deadline with a bare "context deadline exceeded" on a loaded
# machine (go.dev/issue/75804, fixed in Go 1.27).
FUZZTIME ?= 100000x
# Checks per scheduler property in `make prop` (part of `make test`).
PROPCHECKS ?= 2000

.PHONY: all build deps test vet fmt-check unit fuzz prop demo bench bench-failover bench-web clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/paceline

deps:
	./scripts/deps.sh

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -race -count=1 -timeout 15m ./...

# Short fuzz runs of the decoders: the configuration's, VRRP's,
# keepalived.conf's and Pacemaker's CIB's (longer: make fuzz FUZZTIME=5000000x).
fuzz:
	$(GO) test ./cib -run '^$$' -fuzz '^FuzzDecodeYAML$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cib -run '^$$' -fuzz '^FuzzDecodeJSON$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cib -run '^$$' -fuzz '^FuzzDecodeCommand$$' -fuzztime $(FUZZTIME)
	$(GO) test ./agents/vrrp -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./agents/vrrp/kaconf -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cib/pacemaker -run '^$$' -fuzz '^FuzzImport$$' -fuzztime $(FUZZTIME)

# The scheduler's property tests with more random inputs than `unit` runs
# (longer: make prop PROPCHECKS=20000).
prop:
	$(GO) test -count=1 ./crm/scheduler -run '^TestProp' -rapid.checks=$(PROPCHECKS) -rapid.nofailfile

test: deps fmt-check vet unit fuzz prop

demo: deps build
	./scripts/demo.sh
	./scripts/demo-failover.sh

bench: deps build
	$(GO) test -run '^$$' -bench . -benchmem ./cib/...
	./scripts/bench-config.sh

# `paceline simulate --cib` against Pacemaker's crm_simulate (Debian's
# pacemaker-cli-utils) on the same generated CIBs, 16 and 32 nodes x 1000
# resources: what each plans, medians, ratios, peak memory
# (scripts/bench-simulate-cib.sh; RUNS=5, SIZES as it says).
.PHONY: bench-pacemaker
bench-pacemaker: deps
	./scripts/bench-simulate-cib.sh

# Failover figures in network namespaces (root): a client namespace pings
# the VIP every 10 ms; RUNS crashes of a Paceline holder that is not the DC
# and RUNS/2 of one that is, for each timing profile in PROFILES (fast,lan;
# lan runs RUNS/4, at least 3), then as many crashes of keepalived's VRRP
# master in the same set-up (KEEPALIVED=no skips it; LAN_RUNS=N sets the
# lan crashes). Figures: crash -> the client answered again,
# crash -> the address held elsewhere, cold start, create -> answering.
RUNS ?= 20
PROFILES ?= fast
LAN_RUNS ?=
KEEPALIVED ?= yes
bench-failover: deps
	set -o pipefail; PACELINE_FAILOVER_RUNS=$(RUNS) PACELINE_FAILOVER_PROFILES=$(PROFILES) \
	PACELINE_FAILOVER_LAN_RUNS=$(LAN_RUNS) PACELINE_FAILOVER_KEEPALIVED=$(KEEPALIVED) \
	$(GO) test -count=1 -timeout 60m -run '^TestNetnsFailoverFigures$$' -v ./e2e \
	| grep --line-buffered -E 'bench_test.go:[0-9]+:|held by|-- (PASS|FAIL|SKIP)|^(ok|FAIL|panic)'

# Web failover figures (root): RUNS crashes (20 by default, as above) of
# the node serving each web example's VIP (three-node-web,
# active-active-web), then RUNS crashes of keepalived's master in the same
# lab, keepalived + nginx with a check script (VRRPv2 advert_int 1, VRRPv3
# advert_int 0.1). Figures: crash -> HTTP 200 through the VIP from another
# node, where each spends its time, the ratios Paceline/keepalived.
bench-web: deps
	set -o pipefail; PACELINE_EXAMPLE_RUNS=$(RUNS) \
	$(GO) test -count=1 -timeout 60m -run '^TestExampleFigures$$' -v ./e2e \
	| grep --line-buffered -E '(examples|keepalived_web)_test.go:[0-9]+:|-- (PASS|FAIL|SKIP)|^(ok|FAIL|panic)'

# VRRP figures (root): paceline vrrp and keepalived 2.2.7 side by side in
# network namespaces. RUNS crashes (20 by default, as above; SIGKILL and
# link down) of each one's master, VRRPv2 advert_int 1, VRRPv3 advert_int
# 1 and 0.1: crash -> the backup holds the VIP, crash -> a client pinging
# the VIP every 10 ms is answered (median, max, ratios); RSS and PSS with
# one instance and with 10 (all of keepalived's processes); CPU over 30 s
# with 10 instances at advert_int 0.1, master and backup.
.PHONY: bench-vrrp
bench-vrrp: deps
	set -o pipefail; PACELINE_VRRP_RUNS=$(RUNS) \
	$(GO) test -count=1 -timeout 60m -run '^TestVRRPFigures$$' -v ./e2e \
	| grep --line-buffered -E 'vrrp_test.go:[0-9]+:|-- (PASS|FAIL|SKIP)|^(ok|FAIL|panic)'

# Redis figures (root): the two-node-redis example with a writer through
# the VIP; RUNS crash failovers of the primary (20 by default, as above;
# the crashed node returns as a replica, connected and caught up, before
# the next), each followed by two planned moves (resource move --promoted, there
# and back: the crashes alternate between the nodes). Figures: crash ->
# writes acknowledged through the VIP again, writes lost per crash
# failover, writes lost per planned move (0, asserted), a move's pause.
.PHONY: bench-redis
bench-redis: deps
	set -o pipefail; PACELINE_REDIS_RUNS=$(RUNS) \
	$(GO) test -count=1 -timeout 60m -run '^TestRedisExample$$' -v ./e2e \
	| grep --line-buffered -E 'redis_example_test.go:[0-9]+:|-- (PASS|FAIL|SKIP)|^(ok|FAIL|panic)'

# No spurious failover (root): a 3-node cluster with a VIP (fast profile)
# left alone for SOAK (a duration) while the holders and the client's
# pings are watched; SOAK_BUSY=1 keeps every CPU busy meanwhile.
SOAK ?= 10m
SOAK_BUSY ?=
SOAK_TIMEOUT ?= 3h
.PHONY: soak
soak: deps
	set -o pipefail; PACELINE_SOAK=$(SOAK) PACELINE_SOAK_BUSY=$(SOAK_BUSY) \
	$(GO) test -count=1 -timeout $(SOAK_TIMEOUT) -run '^TestNetnsNoSpuriousFailover$$' -v ./e2e \
	| grep --line-buffered -E 'bench_test.go:[0-9]+:|-- (PASS|FAIL|SKIP)|^(ok|FAIL|panic)'

# The fault-injection suite (root; docs/chaos.md; not part of `make test`):
# a 3-node and a 2-node (fenced) cluster with a VIP under CHAOS_FAULTS
# faults (node and agent crashes, link cuts, partitions, DC crashes, netem
# loss and delay, hung nodes, failed fences), never two holders, no lost
# committed write, every fault recovered. CHAOS_SEED replays a run. The
# report: bin/chaos-report.{md,json}; the agents' logs: bin/chaos-logs/.
CHAOS_FAULTS ?= 200
CHAOS_SEED ?=
.PHONY: chaos
chaos: deps build
	CHAOS_FAULTS=$(CHAOS_FAULTS) CHAOS_SEED=$(CHAOS_SEED) \
	$(GO) test -tags chaos -count=1 -run TestChaos -timeout 90m -v ./e2e

# Packaging (docs/install.md). `make install` honours DESTDIR and the
# directories below; man pages and completion files are generated by the
# binary itself (`paceline gen`). `make deb` builds
# bin/paceline_VERSION_ARCH.deb with dpkg-deb (scripts/build-deb.sh).
PREFIX ?= /usr
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
OCFROOT ?= $(PREFIX)/lib/ocf
MANDIR ?= $(PREFIX)/share/man
STATEDIR ?= /var/lib/paceline
.PHONY: install man completions deb
install: build
	BIN=$(BIN) DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) BINDIR=$(BINDIR) SYSCONFDIR=$(SYSCONFDIR) \
	UNITDIR=$(UNITDIR) OCFROOT=$(OCFROOT) MANDIR=$(MANDIR) STATEDIR=$(STATEDIR) ./scripts/install.sh

man: build
	rm -rf bin/man && ./$(BIN) gen man bin/man

completions: build
	rm -rf bin/completions && ./$(BIN) gen completion bin/completions

deb:
	./scripts/build-deb.sh --out bin

clean:
	rm -rf bin
