# Parlance set-up contract: `make run` and `make test` install everything they need, idempotently.
SHELL := /bin/bash
.DEFAULT_GOAL := run

APT_RUNTIME := libpocketsphinx3 libsphinxbase3 pocketsphinx-en-us ffmpeg flite libflite1 espeak-ng libespeak-ng1 festival festvox-us-slt-hts
APT_TEST    := pocketsphinx-testdata iproute2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

HOST ?= 127.0.0.1
PORT ?= 5000
DATA_DIR ?= ./data

.PHONY: run test setup system-deps test-deps node-deps build typecheck lint bench clean

setup: system-deps node-deps build

# Installs the Debian packages only when one is missing, so a second run costs nothing.
system-deps:
	@missing=$$(for p in $(APT_RUNTIME); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

test-deps: system-deps
	@missing=$$(for p in $(APT_TEST); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

# npm ci only when the lock file changed since the last install.
node_modules/.parlance-installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

node-deps: node_modules/.parlance-installed

build: node-deps
	npm run -s build

typecheck: node-deps
	npm run -s typecheck

lint: node-deps
	npm run -s lint:deps

run: setup
	node dist/src/cli/main.js serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR) --print-key

test: setup test-deps typecheck lint
	npm test

bench: setup test-deps
	npm run -s bench

clean:
	rm -rf dist node_modules/.parlance-installed
