# Request Tracker Utils on Prefork. `make run` serves on 127.0.0.1:8000; `make test` passes.
SWIFT       ?= swift
BIN_DEBUG    = .build/debug/request-tracker-utils
BIN_RELEASE  = .build/release/request-tracker-utils
APT_PACKAGES = libsystemd-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev curl wrk nginx-light python3-pytest systemd util-linux iproute2 zbar-tools librsvg2-bin libpq-dev postgresql \
               chromium chromium-driver libldap-dev slapd ldap-utils
PYTEST      ?= python3 -m pytest

.PHONY: all deps test-deps build release run test lint unit integration fuzz fuzz-smoke bench docs check-docs format clean install

all: build

## deps: install the system packages the build and tests need (Debian), if any is missing.
## slapd is preseeded to stay unconfigured: the tests run their own (Tests/ldap/slapd-server.sh).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "slapd slapd/no_configuration boolean true" | $$SUDO debconf-set-selections; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

## test-deps: Request Tracker 5 (request-tracker5 rt5-db-sqlite rt5-standalone) for the tests
## that use a real RT: preseeded and non-interactive (see the script).
## Also nix-bin (nix-instantiate) for Tests/integration/test_nix.py, retried: the mirror flakes;
## and prometheus (promtool, a real scrape) without recommends, whose nvme-cli unit fails in the harness.
test-deps: deps
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO Tests/rt/rt-server.sh install
	@dpkg -s prometheus >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
	@dpkg -s nix-bin >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  for i in 1 2 3; do $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nix-bin >/dev/null && exit 0; \
	    echo "nix-bin: attempt $$i failed"; sleep $$((i * 5)); done; exit 1; }

build:
	$(SWIFT) build

## release: the Swift runtime linked statically (--static-swift-stdlib): no libswiftCore,
## libFoundationEssentials... to load and relocate, so each worker maps less (docs/design.md, "Memory").
release:
	$(SWIFT) build -c release --static-swift-stdlib

## run: the server on 127.0.0.1:8000 with its embedded defaults (working directory ./var),
## in debug mode (no SECRET_KEY needed, localhost allowed) after the preStart steps.
run: deps release
	$(BIN_RELEASE) migrate
	$(BIN_RELEASE) collectstatic
	DEBUG=true $(BIN_RELEASE) serve --bind 127.0.0.1:8000 --access-logfile -

## test: the house-style checks, unit tests (swift test), then integration tests against the real binary.
test: test-deps lint unit integration fuzz-smoke

## lint: `swift format lint --strict` (the checked-in .swift-format) and the limits it does not
## check: no Swift file over 500 lines, no function over 80 (scripts/check-source-shape.py).
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift
	python3 scripts/check-source-shape.py Sources Tests

unit:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

integration: release
	PREFORK_BIN=$(CURDIR)/$(BIN_RELEASE) $(PYTEST) -q Tests/integration

## fuzz: every libFuzzer target for FUZZ_SECONDS (60) each (docs/fuzzing.md).
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh --seconds $(FUZZ_SECONDS)

## fuzz-smoke (part of `test`): every seed (fixed crashes become seeds) through the ordinary build,
## then each target fuzzed for 5 s.
fuzz-smoke:
	$(SWIFT) build -c release --product prefork-fuzz
	for t in request chunked config envfile cli multipart roster rtanswer; do \
	  .build/release/prefork-fuzz $$t Tests/fuzz/$$t $$( [ $$t = request ] && echo Tests/PreforkCoreTests/Corpus ) || exit 1; \
	done
	scripts/fuzz.sh --seconds 5

bench: deps release
	bench/run.sh --server-bin $(CURDIR)/$(BIN_RELEASE)

## docs: regenerate docs/settings.md from the settings registry, and the signal tables of
## README.md and docs/operations.md from SignalTable.
docs: build
	$(BIN_DEBUG) settings-doc > docs/settings.md
	for f in README.md docs/operations.md; do \
	  $(BIN_DEBUG) signals-doc < $$f > $$f.tmp && mv $$f.tmp $$f || { rm -f $$f.tmp; exit 1; }; \
	done

## install: the release binary, units, nginx site, logrotate and secrets.env (Debian; see
## scripts/install.sh). `make install DESTDIR=/tmp/stage PREFIX=/opt/rtu` stages instead.
PREFIX ?= /usr/local
install: release
	scripts/install.sh --binary $(BIN_RELEASE) --prefix $(PREFIX) $(if $(DESTDIR),--destdir $(DESTDIR))

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
