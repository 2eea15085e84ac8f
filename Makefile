# Socket.IO handshake authorization, two ways. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LEGACY_PORT ?= 8081
MIDDLEWARE_PORT ?= 8082

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# ---- set-up -------------------------------------------------------------------------------
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP) ## Create .venv and install the pinned dependencies

# ---- run ----------------------------------------------------------------------------------
demo: $(STAMP) ## Run both servers side by side (Ctrl-C stops both)
	@export TOKEN_SECRET=$${TOKEN_SECRET:-$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(32))')}; \
	trap 'kill 0' INT TERM; \
	$(BIN)/python -m legacy_authorization --port $(LEGACY_PORT) & \
	$(BIN)/python -m middleware_auth --port $(MIDDLEWARE_PORT) & \
	wait

demo-legacy: $(STAMP) ## Run the 0.9-style server alone on $(LEGACY_PORT)
	$(BIN)/python -m legacy_authorization --port $(LEGACY_PORT)

demo-middleware: $(STAMP) ## Run the 1.0+-style server alone on $(MIDDLEWARE_PORT)
	$(BIN)/python -m middleware_auth --port $(MIDDLEWARE_PORT)

# ---- check --------------------------------------------------------------------------------
test: $(STAMP) lint ## Run everything: lint, the parity suite, engine tests
	$(BIN)/pytest

lint: $(STAMP) ## ruff on every package, tests included
	$(BIN)/ruff check legacy_authorization middleware_auth shared tests

diff: ## What a migration changes: the two implementations side by side
	-diff -ru --exclude=__pycache__ legacy_authorization middleware_auth

clean: ## Remove what the build made
	rm -rf $(VENV) node_modules site artifacts .pytest_cache .ruff_cache

.PHONY: help install demo demo-legacy demo-middleware test lint diff clean
