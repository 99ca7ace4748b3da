# oml — build, demo, tests, benchmarks. Every target installs what it needs.
GO      ?= go
BIN     := bin/oml
PKGS    := ./...

.PHONY: build assets chromium demo test check bench bench-smoke clean

build: assets
	$(GO) build -o $(BIN) ./cmd/oml

## assets: the portal's npm packages (pinned in package-lock.json) installed, and built into
## internal/web/static/vendor, which the binary embeds (not committed): Bootstrap Italia's CSS
## purged of the rules no template uses and of the @font-face no rule uses (a VideoJS icon font
## inlined as data:, which the portal's Content-Security-Policy refuses), ECharts bundled with only
## what oml.js draws, fonts.
VENDOR    := internal/web/static/vendor
WEB_SRC   := $(wildcard internal/web/templates/*.html) $(filter-out %_test.go,$(wildcard internal/web/*.go)) internal/web/static/oml.js
assets: $(VENDOR)/.npm $(VENDOR)/bootstrap-italia.min.css $(VENDOR)/echarts.min.js
$(VENDOR)/.npm: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/fonts
	for w in 300 regular italic 600 700; do \
	  cp node_modules/bootstrap-italia/dist/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-$$w.woff2 $(VENDOR)/fonts/; done
	cp node_modules/bootstrap-italia/dist/fonts/Roboto_Mono/roboto-mono-v13-latin-ext_latin-regular.woff2 $(VENDOR)/fonts/
	touch $@
$(VENDOR)/bootstrap-italia.min.css: $(VENDOR)/.npm $(WEB_SRC)
	node_modules/.bin/purgecss --font-face --css node_modules/bootstrap-italia/dist/css/bootstrap-italia.min.css \
	  --content $(WEB_SRC) --output $(VENDOR)/
$(VENDOR)/echarts.min.js: $(VENDOR)/.npm internal/web/charts/echarts.js
	node_modules/.bin/esbuild internal/web/charts/echarts.js --bundle --minify --format=iife \
	  --legal-comments=eof --log-level=warning --outfile=$@

## chromium: Debian's Chromium (the portal's browser tests, the reports' PDF) and poppler-utils
## (the PDF tests read the text and pages back), installed when missing.
chromium:
	@{ command -v chromium && command -v pdftotext; } >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium poppler-utils; }

## demo: build, then generate, ingest and summarise a realistic synthetic data set.
demo: build
	./$(BIN) demo

## test: the whole test suite, as CI runs it (installs the npm packages and Chromium first).
test: assets chromium check
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
	rm -rf bin oml-data $(VENDOR)
