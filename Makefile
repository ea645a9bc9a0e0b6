# shardlog: make build | run | test | fuzz | bench | image | clean

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The full commit, -dirty when the work tree has changes.
COMMIT    ?= $(shell git describe --always --dirty --abbrev=40 --match=no-tag 2>/dev/null)
LDFLAGS   := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# `shardlog version` prefers the commit of the build info, which
# -buildvcs=auto records when the tree is a git clone, whatever GOFLAGS says.
BUILDFLAGS := -trimpath -buildvcs=auto -ldflags '$(LDFLAGS)'
FUZZTIME  ?= 10s
BENCHTIME ?= 1s

.PHONY: build run test fuzz bench bench-peers image install clean

## build: compile the daemon to bin/shardlog, stamped with git describe.
build:
	$(GO) build $(BUILDFLAGS) -o bin/shardlog ./cmd/shardlog

## run: build, then serve on 127.0.0.1:4567 with data in ./data, on the
## defaults built into the binary (config.yaml spells them out; a test keeps
## the two equal). Another file: ./bin/shardlog serve --config FILE.
run: build
	./bin/shardlog serve

## test: vet, then every test with the race detector, including the smoke
## tests in cmd/shardlog that drive the real binary with the AWS CLI, boto3
## and the JavaScript SDK (each skips when its client is missing, except
## under CI=true); then the crash-point sweep, which kills a real daemon at
## every durable step and skips itself under -race; then a brief run of the
## fuzz targets that guard access control (what a client without
## credentials reaches: the SigV4 header checks, policies, sealed tokens).
## Each entry is package:target; a target that is not found fails the run
## (go test only warns), so a moved fuzz target cannot silently stop running.
## The budget is a count of executions, not a duration: a -fuzztime duration
## can fail a run with a bare "context deadline exceeded" and no failing input
## (golang/go#75804, seen here on FuzzParsePolicy under load).
SECURITY_FUZZ ?= ./server/sigv4:FuzzSigV4Headers ./server/ops:FuzzParsePolicy ./server/wire:FuzzOpenToken
SECURITY_FUZZ_EXECS ?= 100000x
test:
	$(GO) vet ./...
	$(GO) test -race ./...
	$(GO) test -run '^TestCrashPointSweep$$' ./cmd/shardlog
	@set -e; for entry in $(SECURITY_FUZZ); do \
		pkg=$${entry%%:*}; target=$${entry##*:}; \
		$(GO) test -list "^$$target\$$" $$pkg | grep -qx "$$target" || { echo "fuzz target $$target not found in $$pkg"; exit 1; }; \
		$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(SECURITY_FUZZ_EXECS) $$pkg; \
	done

## fuzz: run every fuzz target of every package for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		targets=$$($(GO) test -list 'Fuzz.*' $$pkg); \
		for target in $$(echo "$$targets" | grep '^Fuzz'); do \
			echo "== $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

## bench: build shardlog, start it on a temporary data dir and a free port,
## run the standard load workloads of bench/ (BENCH_DURATION each) over HTTP
## and print the table. Micro-benchmarks: go test -run '^$$' -bench . ./...
BENCH_DURATION ?= 10s
bench: build
	./bin/shardlog bench --serve --suite --duration $(BENCH_DURATION) --report bin/bench.html

## bench-peers: install kinesalite 3.3.3 and kinesis-local 0.6.2 from npm into
## a temporary directory, run the standard workloads against shardlog and each
## peer in one run, write bench/RESULTS.md (and bin/bench-peers.html).
bench-peers: build
	./bin/shardlog bench --peers --duration $(BENCH_DURATION) --results bench/RESULTS.md --report bin/bench-peers.html

## image: build the static binary (CGO_ENABLED=0) and, from it, the
## container image, without a Docker daemon or a base image (cmd/mkimage):
## one layer on scratch, user 65532, port 4567, volume /data, a health
## check. Writes $(IMAGE), tagged shardlog:$(VERSION) and shardlog:latest;
## docker load -i $(IMAGE).
IMAGE ?= dist/shardlog-image.tar
image:
	CGO_ENABLED=0 GOOS=linux $(GO) build $(BUILDFLAGS) -o dist/shardlog ./cmd/shardlog
	$(GO) run ./cmd/mkimage --binary dist/shardlog --version $(VERSION) --revision '$(COMMIT)' --out $(IMAGE)

## install: build, then install (as root) the binary to $(PREFIX)/bin, the
## systemd unit cmd/shardlog/shardlog.service, /etc/shardlog/config.yaml
## (the defaults; an existing file is kept), a `shardlog` system user and
## its data directory /var/lib/shardlog. Then: systemctl enable --now shardlog.
## DESTDIR stages into a directory instead (no user, no chown).
PREFIX  ?= /usr/local
DESTDIR ?=
install: build
	install -D -m 0755 bin/shardlog $(DESTDIR)$(PREFIX)/bin/shardlog
	sed 's|/usr/local/bin/shardlog|$(PREFIX)/bin/shardlog|' cmd/shardlog/shardlog.service > bin/shardlog.service
	install -D -m 0644 bin/shardlog.service $(DESTDIR)/etc/systemd/system/shardlog.service
	test -e $(DESTDIR)/etc/shardlog/config.yaml || install -D -m 0644 config.yaml $(DESTDIR)/etc/shardlog/config.yaml
	install -d -m 0750 $(DESTDIR)/var/lib/shardlog
	if [ -z "$(DESTDIR)" ]; then \
		id -u shardlog >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/shardlog --no-create-home --shell /usr/sbin/nologin shardlog; \
		chown shardlog:shardlog /var/lib/shardlog; \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi

## clean: remove build outputs (not ./data).
clean:
	rm -rf bin dist
