# Merlon's build and test entry points. `make test` is the one command that
# installs what the tests need (Debian packages, npm) and runs every test;
# .ci/run calls exactly it.

GO ?= go
export MERLON_REQUIRE_TESTBED ?= 1

.PHONY: all build test deps vet unit bench fuzz-short clean

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
	$(GO) test -race -count=1 ./...

test: deps vet unit

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/pipeline/ ./internal/engine/ ./internal/spec/

clean:
	rm -rf bin
