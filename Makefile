# oml — build, demo, tests, benchmarks. Every target installs what it needs.
GO      ?= go
BIN     := bin/oml
PKGS    := ./...

.PHONY: build demo test check bench bench-smoke clean

build:
	$(GO) build -o $(BIN) ./cmd/oml

## demo: build, then generate, ingest and summarise a realistic synthetic data set.
demo: build
	./$(BIN) demo

## test: the whole test suite, as CI runs it.
test: check
	$(GO) test -count=1 -timeout 45m $(PKGS)
	$(MAKE) bench-smoke

## check: formatting and static checks.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## bench: full-scale benchmarks (about 35 million events); SCALE=0.1 for a quick run.
SCALE ?= 1
bench: build
	$(GO) run ./bench/cmd/benchtable -scale $(SCALE) -oml $(BIN)

## bench-smoke: a tiny run of the benchmark table, to keep the script working.
bench-smoke: build
	$(GO) run ./bench/cmd/benchtable -scale 0.002 -from 2023-01 -to 2023-12 -oml $(BIN) -api-duration 1s

clean:
	rm -rf bin oml-data
