# OpenCX — `make help` lists the targets. Needs only Python >= 3.11 and make.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export OPENCX_DATA_DIR ?= $(CURDIR)/data
PYTEST_ARGS ?=
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/opencx_test

.DEFAULT_GOAL := help
.PHONY: help install install-dev run demo test test-pg test-browser lint format openapi messages bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "OpenCX needs Python >= 3.11 on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.base: $(BIN)/python requirements/base.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements/base.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.base requirements/dev.lock
	$(BIN)/pip install --quiet -r requirements/dev.lock
	@touch $@

install: $(VENV)/.base ## Install OpenCX into .venv from the lock file

install-dev: $(VENV)/.dev ## Install OpenCX and the test tools

run: install ## Install, prepare the database, load the demo brand if empty, serve on :8000
	$(BIN)/opencx migrate --noinput -v0
	$(BIN)/opencx demo --if-empty
	DEBUG=true $(BIN)/opencx serve --port $(PORT)

demo: install ## Load the demo brand into the database (again)
	$(BIN)/opencx migrate --noinput -v0
	$(BIN)/opencx demo

lint: install-dev ## ruff, import contracts, mypy on the analytics core, OpenAPI drift
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/opencx check_openapi

format: install-dev ## Format the code
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

test: install-dev lint ## Lint, then the whole suite on SQLite (browser tests: make test-browser)
	$(BIN)/pytest -q -m "not browser" -n 2 $(PYTEST_ARGS)

test-pg: install-dev ## The suite against PostgreSQL (TEST_DATABASE_URL)
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -q -m "not browser" -n 2 $(PYTEST_ARGS)

test-browser: install-dev ## Browser tests in Debian's Chromium through Playwright
	$(BIN)/pytest -q -m browser $(PYTEST_ARGS)

openapi: install ## Write docs/openapi.json from the running code
	$(BIN)/opencx check_openapi --write

LOCALES := it cy ru es fr de
# The apps whose pages and e-mails customers read: surveys, offers (playbooks).
MESSAGE_APPS := surveys offers
messages: install ## Update the customer-facing apps' .po files from the code and compile them (needs gettext)
	for app in $(MESSAGE_APPS); do \
		(cd src/opencx/$$app && env -u DJANGO_SETTINGS_MODULE $(CURDIR)/$(BIN)/django-admin makemessages \
			$(foreach l,$(LOCALES),-l $(l)) --add-location=file --no-obsolete) || exit 1; \
	done
	for po in $(foreach app,$(MESSAGE_APPS),src/opencx/$(app)/locale/*/LC_MESSAGES/django.po); do \
		msgfmt --check -o $${po%.po}.mo $$po || exit 1; \
	done

bench: install-dev ## Run the benchmarks
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

.PHONY: train-text
SENTIMENT_DATA ?= $(CURDIR)/../shared/data/sentiment
train-text: install ## Retrain the shipped sentiment model from ../shared/data/sentiment (10-20 min)
	$(BIN)/python -m opencx.analytics.text.train --data $(SENTIMENT_DATA) --out src/opencx/analytics/text/models --cache-dir $${TMPDIR:-/tmp}/opencx-text-cache

clean: ## Remove the virtual environment (keeps ./data)
	rm -rf $(VENV)
