# Merlon's build and test entry points. `make test` is the one command that
# installs what the tests need (Debian packages, npm) and runs every test;
# .ci/run calls exactly it.

GO ?= go
export MERLON_REQUIRE_TESTBED ?= 1

.PHONY: all build test deps vet unit bench bench-scan fuzz-short clean

all: build

build:
	$(GO) build -o bin/merlon ./cmd/merlon

# deps installs the real servers and tools the tests use (scripts/deps.sh):
# Chromium, poppler-utils, Flask + boto3, Node.js and dynalite. Idempotent.
deps:
	sh scripts/deps.sh

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 40m ./...

test: deps vet unit fuzz-short

# fuzz-short runs each fuzzer for a fixed number of inputs (FUZZTIME each,
# one worker), after the committed seed corpora in testdata/fuzz ran as
# ordinary tests in unit. The bound is a count, not a duration: Go's fuzz
# coordinator can fail a time-bounded run with a bare "context deadline
# exceeded" when the deadline lands while a worker is busy, and it spends
# up to a minute minimizing each new interesting input unless told
# otherwise (FUZZMINIMIZE). A failure here always comes with a written
# reproducer in testdata/fuzz. A longer local run: make fuzz-short
# FUZZTIME=5000000x.
FUZZTIME ?= 50000x
FUZZMINIMIZE ?= 200x
FUZZERS = ./internal/spec:FuzzParse ./internal/fill:FuzzWalk \
	./internal/fingerprint:FuzzObserve ./internal/fingerprint:FuzzPrefilter \
	./internal/redact:FuzzString \
	./internal/config:FuzzParse \
	./internal/report:FuzzReadJSON ./internal/report/text:FuzzClean

fuzz-short:
	@set -e; for f in $(FUZZERS); do \
		echo "fuzz $${f%%:*} $${f##*:} for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${f##*:}\$$" -fuzztime $(FUZZTIME) \
			-fuzzminimizetime $(FUZZMINIMIZE) -parallel 1 "$${f%%:*}"; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/pipeline/ ./internal/engine/ ./internal/spec/

# bench-scan measures whole scans against the synthetic API; see
# docs/performance.md.
bench-scan:
	$(GO) run ./bench

clean:
	rm -rf bin
