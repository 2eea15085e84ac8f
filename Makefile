# Socket.IO handshake authorization, two ways. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PAGE_PORT ?= 8080
LEGACY_PORT ?= 8081
MIDDLEWARE_PORT ?= 8082
PAGE := http://$(HOST):$(PAGE_PORT)
VENDOR := shared/webapp/static/vendor/socket.io.min.js
MERMAID := docs/javascripts/mermaid.min.js
export NO_MKDOCS_2_WARNING := 1
CHROMIUM ?= /usr/bin/chromium
REDIS_SERVER ?= /usr/bin/redis-server
REDIS_PORT ?= 6390
DEMO_REDIS_PORT ?= 6391
HAPROXY ?= /usr/sbin/haproxy
OPENSSL ?= /usr/bin/openssl
# make demo-cluster TLS=1: HAProxy also terminates TLS on these ports (self-signed certificate)
LEGACY_TLS_PORT ?= 8443
MIDDLEWARE_TLS_PORT ?= 8444

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# ---- set-up -------------------------------------------------------------------------------
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# The library's range, tested at its floors too: a second venv with the lock's versions but
# python-socketio, python-engineio and aiohttp (its extra) at pyproject.toml's lower bounds.
# `pip check` then proves that the library's ranges, and every other package's, accept them.
FLOORS_VENV := .venv-floors
FLOORS_STAMP := $(FLOORS_VENV)/.installed
# Each range must be written "name>=floor,<cap": anything else fails here, never installs a
# version that is not the floor.
FLOORS = $(shell $(PYTHON) -c 'import re, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
    found = [re.fullmatch(r"([\w.-]+)>=([\w.]+),<[\w.]+", r) for r in p["dependencies"] + p["optional-dependencies"]["aiohttp"]]; \
    print(*(f"{m[1]}=={m[2]}" for m in found) if all(found) else "pyproject.toml:a-range-not-written-name>=floor,<cap")')
$(FLOORS_STAMP): pyproject.toml requirements.lock
	test -x $(FLOORS_VENV)/bin/python || $(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/pip install --quiet --upgrade pip
	$(FLOORS_VENV)/bin/pip install --quiet -r requirements.lock
	$(FLOORS_VENV)/bin/pip install --quiet $(FLOORS)
	$(FLOORS_VENV)/bin/pip install --quiet --no-deps -e .
	$(FLOORS_VENV)/bin/pip check
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(VENDOR): node_modules/.package-lock.json
	mkdir -p $(dir $@)
	cp node_modules/socket.io-client/dist/socket.io.min.js $@

$(MERMAID): node_modules/.package-lock.json
	mkdir -p $(dir $@)
	cp node_modules/mermaid/dist/mermaid.min.js $@

# The JavaScript originals: real socket.io 0.9.19, 2.5.1 and 4.8 on Node.js, each pinned by its lock.
ORIGINALS := originals originals/v0.9 originals/v2 originals/v4
ORIGINALS_STAMPS := $(addsuffix /node_modules/.package-lock.json,$(ORIGINALS))
$(ORIGINALS_STAMPS): %/node_modules/.package-lock.json: %/package.json %/package-lock.json
	cd $* && npm ci --no-audit --no-fund --loglevel=error
	touch $@

originals: $(ORIGINALS_STAMPS) ## Install the JavaScript originals (real Socket.IO 0.9.19, 2.5.1, 4.8)

install: $(STAMP) $(VENDOR) $(MERMAID) $(ORIGINALS_STAMPS) ## Create .venv, install the pinned Python and npm packages

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	else echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi

browser: $(CHROMIUM) ## Install Debian's chromium for the browser tests (root)

$(REDIS_SERVER):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server; \
	else echo "The cluster tests need Debian's redis-server: sudo apt-get install redis-server"; exit 1; fi

redis: $(REDIS_SERVER) ## Install Debian's redis-server for the cluster tests and demo (root)

$(HAPROXY):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq haproxy; \
	else echo "The cluster tests need Debian's haproxy: sudo apt-get install haproxy"; exit 1; fi

$(OPENSSL):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq openssl; \
	else echo "HAProxy's TLS certificate needs Debian's openssl: sudo apt-get install openssl"; exit 1; fi

haproxy: $(HAPROXY) $(OPENSSL) ## Install Debian's haproxy (and openssl, for TLS) for the cluster tests and demo (root)

# ---- run ----------------------------------------------------------------------------------
# Both servers keep their login sessions in one Redis: a browser holds one session cookie per
# host, whatever the port, so the two servers of the page read the same one, as two apps of one
# site share their session store.
demo: install redis ## Both servers (one Redis for their sessions) and the side-by-side page on $(PAGE)/ (Ctrl-C stops all)
	@export TOKEN_SECRET=$${TOKEN_SECRET:-$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(32))')}; \
	DATA=$$(mktemp -d); trap 'trap - INT TERM EXIT; rm -rf "$$DATA"; kill 0' INT TERM EXIT; R=redis://$(HOST):$(DEMO_REDIS_PORT)/0; \
	$(REDIS_SERVER) --port $(DEMO_REDIS_PORT) --bind $(HOST) --dir "$$DATA" --save "" >/dev/null & sleep 0.5; \
	$(BIN)/python -m legacy_authorization --host $(HOST) --port $(LEGACY_PORT) --redis $$R --allow-origin $(PAGE) & \
	$(BIN)/python -m middleware_auth --host $(HOST) --port $(MIDDLEWARE_PORT) --redis $$R --allow-origin $(PAGE) & \
	$(BIN)/python -m shared.webapp.side_by_side --host $(HOST) --port $(PAGE_PORT) \
	    --legacy http://$(HOST):$(LEGACY_PORT) --middleware http://$(HOST):$(MIDDLEWARE_PORT) & \
	sleep 1; echo; echo "  Side by side: $(PAGE)/   legacy: http://$(HOST):$(LEGACY_PORT)/   middleware: http://$(HOST):$(MIDDLEWARE_PORT)/"; echo; \
	wait

# Each node listens on a Unix socket in a folder only this user can open (mktemp -d: mode 700),
# and trusts that socket's peer, HAProxy, to say who the client is (and, with TLS=1, that it
# used https). Nodes have no TCP port: a client cannot reach one and forge X-Forwarded-For.
demo-cluster: install redis haproxy ## Two nodes per style on Unix sockets + Redis + HAProxy (TLS=1: https too); page on $(PAGE)/
	@export TOKEN_SECRET=$${TOKEN_SECRET:-$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(32))')}; \
	DATA=$$(mktemp -d); trap 'trap - INT TERM EXIT; rm -rf "$$DATA"; kill 0' INT TERM EXIT; R=redis://$(HOST):$(REDIS_PORT)/0; \
	$(REDIS_SERVER) --port $(REDIS_PORT) --bind $(HOST) --dir "$$DATA" --save "" --appendonly yes >/dev/null & sleep 0.5; \
	for n in 1 2; do $(BIN)/python -m legacy_authorization --unix "$$DATA/legacy$$n.sock" --redis $$R \
	    --trust-proxy unix --allow-origin $(PAGE) --allow-origin http://$(HOST):$(LEGACY_PORT) \
	    $(if $(TLS),--allow-origin https://$(HOST):$(LEGACY_TLS_PORT)) & done; \
	for n in 1 2; do $(BIN)/python -m middleware_auth --unix "$$DATA/middleware$$n.sock" --redis $$R \
	    --trust-proxy unix --allow-origin $(PAGE) --allow-origin http://$(HOST):$(MIDDLEWARE_PORT) \
	    $(if $(TLS),--allow-origin https://$(HOST):$(MIDDLEWARE_TLS_PORT)) & done; \
	$(BIN)/python -m cluster.haproxy --host $(HOST) --port $(LEGACY_PORT) $(if $(TLS),--tls-port $(LEGACY_TLS_PORT)) \
	    "unix@$$DATA/legacy1.sock" "unix@$$DATA/legacy2.sock" & \
	$(BIN)/python -m cluster.haproxy --host $(HOST) --port $(MIDDLEWARE_PORT) $(if $(TLS),--tls-port $(MIDDLEWARE_TLS_PORT)) \
	    "unix@$$DATA/middleware1.sock" "unix@$$DATA/middleware2.sock" & \
	$(BIN)/python -m shared.webapp.side_by_side --host $(HOST) --port $(PAGE_PORT) \
	    --legacy http://$(HOST):$(LEGACY_PORT) --middleware http://$(HOST):$(MIDDLEWARE_PORT) & \
	sleep 1.5; echo; echo "  Side by side through HAProxy: $(PAGE)/  (nodes on Unix sockets in $$DATA, Redis $(REDIS_PORT))"; \
	$(if $(TLS),echo "  Over TLS (self-signed): https://$(HOST):$(LEGACY_TLS_PORT)/ and https://$(HOST):$(MIDDLEWARE_TLS_PORT)/";) echo; \
	wait

demo-legacy: install ## Run the 0.9-style server alone on $(LEGACY_PORT)
	$(BIN)/python -m legacy_authorization --host $(HOST) --port $(LEGACY_PORT)

demo-middleware: install ## Run the 1.0+-style server alone on $(MIDDLEWARE_PORT)
	$(BIN)/python -m middleware_auth --host $(HOST) --port $(MIDDLEWARE_PORT)

demo-node09: originals ## The JavaScript original on real Socket.IO 0.9.19, on :8091
	node originals/v0.9/app.js --host $(HOST) --port 8091

demo-node4: originals ## The JavaScript original on real Socket.IO 4.8, on :8094
	node originals/v4/app.js --host $(HOST) --port 8094

# ---- check --------------------------------------------------------------------------------
test: install browser redis haproxy lint docs test-floors ## Run everything: lint, docs, the library at its floors, the parity suite, engine and browser tests
	$(BIN)/pytest

# The tests that exercise the library itself, which test-floors runs at its dependencies' floors
LIBRARY_TESTS := tests/test_legacy_authorization.py tests/test_middleware_auth.py \
    tests/test_timeouts.py tests/test_parity.py tests/test_package.py tests/test_idle_sessions.py \
    tests/test_load.py tests/test_oracle_behaviours.py tests/test_fastapi_example.py \
    tests/test_bad_input.py tests/test_hostile_input.py tests/test_migration.py

test-floors: $(FLOORS_STAMP) $(ORIGINALS_STAMPS) ## The library's tests at the floors of its range, in .venv-floors
	$(FLOORS_VENV)/bin/pytest -p no:cacheprovider $(LIBRARY_TESTS)

bench: install ## Each style's server CPU and memory against python-socketio's own pattern and bare (QUICK=1: a few minutes)
	$(BIN)/python -m bench.run $(if $(QUICK),--quick,)

fuzz: install ## Property-based parity at 10,000 examples per property and server (minutes)
	$(BIN)/pytest tests/test_properties.py tests/test_load.py tests/test_hostile_input.py -p no:cacheprovider \
	    --hypothesis-profile=fuzz --hypothesis-show-statistics --timeout=3600 --load-handshakes=1000

docs: install ## Build the site with --strict (its hooks generate the tables from real connections)
	$(BIN)/mkdocs build --strict --quiet

docs-serve: docs ## Serve the site on http://127.0.0.1:8000/ with live reload
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

lint: $(STAMP) ## ruff on every package, tests included
	$(BIN)/ruff check socketio_handshake_auth legacy_authorization middleware_auth migration_kit shared tests examples bench cluster

diff: ## What a migration changes: the two implementations side by side
	@diff -ru --exclude=__pycache__ legacy_authorization middleware_auth; test $$? -le 1  # 1: they differ

clean: ## Remove what the build made
	rm -rf $(VENV) $(FLOORS_VENV) node_modules site artifacts .pytest_cache .ruff_cache

.PHONY: help install originals demo-node09 demo-node4 browser redis haproxy demo-cluster bench fuzz docs docs-serve demo demo-legacy demo-middleware test test-floors lint diff clean
