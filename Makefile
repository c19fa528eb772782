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

.PHONY: help install run test lint fmt migrate bench clean up down

help:
	@echo "make run      start the whole system (embedded PostgreSQL and Redis unless DATABASE_URL/REDIS_URL are set)"
	@echo "make test     run the test suite (embedded servers unless TEST_DATABASE_URL/TEST_REDIS_URL are set)"
	@echo "make lint     ruff check, ruff format --check, mypy"
	@echo "make fmt      format and autofix"
	@echo "make migrate  apply both migration histories"
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

install: $(STAMP)

run: $(STAMP)
	@$(DEVSTACK) run --procfile $(PROCFILE) --release "$(MAKE) --no-print-directory _migrate" \
		$(addprefix --ready-url ,$(READY_URLS)) --banner deploy/banner.txt

test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

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
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name '*.egg-info' -type d -prune -exec rm -rf {} +
