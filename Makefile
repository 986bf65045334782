# Everything installs itself from the lock file: only a Python >= 3.10 is needed.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
# Never download a Python: use the one that runs this Makefile.
export UV_PYTHON := $(shell $(PYTHON) -c 'import sys; print(sys.executable)')
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON_PREFERENCE := only-system
# Bytecode compiled once at install: with PYTHONDONTWRITEBYTECODE set (as on these machines) every
# process would otherwise compile Airflow from source on import (~4 s of CPU each, dozens of
# processes per run).
export UV_COMPILE_BYTECODE := 1
LOWEST_ENV := .venv-airflow-3.1
PYTEST_ARGS ?=
# Four workers on two cores for the tests that share nothing: they mostly wait on HTTP and on tasks
# generating (work stealing: the slow tests do not pile up on one worker);
# real Airflow process tests run on their own after.
PARALLEL ?= -n 4 --dist worksteal
# The edit loop leaves the fault matrix (real retry back-offs, ~2 min of waits) to `make test`.
CHECK_TESTS := tests/unit tests/emulator tests/integration tests/property tests/storage tests/ui
# What depends on the Airflow version (pure modules and the emulator do not).
VERSIONED_TESTS := tests/unit tests/integration tests/faults tests/storage
TRIGGERER_SCALE_ARGS ?=

.PHONY: demo test check lint typecheck test-newest test-lowest test-processes bench sync sync-lowest clean catalog

demo: sync  ## Run the example DAG end to end (local emulator unless runway_default is configured)
	.venv/bin/python scripts/demo.py

# The two Airflow versions run side by side, each stream pairing work that waits with work that
# computes: 3.3's in-process tests (CPU) run while 3.1's real-process tests (mostly waiting on
# Airflow's scheduling) run, then 3.3's real processes while 3.1's in-process tests run.
test: lint typecheck sync sync-lowest  ## Lint, type-check, then the suite on Airflow 3.3 and 3.1 side by side
	$(MAKE) --no-print-directory -j2 --output-sync=target test-newest test-lowest

# The model catalog follows the locked runwayml SDK: its schema is generated, the hand-kept facts
# (prices, CometAPI's offer, defaults, dates) live in scripts/catalog/overlay.json.
catalog: sync  ## Regenerate runway/catalog.json and docs/models.md from the locked SDK plus the overlay
	.venv/bin/python -m scripts.catalog

check: lint typecheck  ## The edit loop: lint, types, unit and in-process integration tests on Airflow 3.3
	.venv/bin/python -m pytest $(PARALLEL) -m "not processes and not slow" $(CHECK_TESTS) $(PYTEST_ARGS)

.tools/bin/uv:
	$(PYTHON) -m venv .tools && .tools/bin/python -m pip install --quiet uv

sync: $(UV)
	$(UV) sync --frozen --quiet

sync-lowest: $(UV)
	UV_PROJECT_ENVIRONMENT=$(LOWEST_ENV) $(UV) sync --frozen --quiet \
		--no-default-groups --group dev --group airflow-lowest

lint: sync
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: sync
	.venv/bin/mypy

# Each stream has a base temp of its own: concurrent pytest runs prune each other's numbered ones.
test-newest: sync
	@mkdir -p .pytest-tmp
	.venv/bin/python -m pytest $(PARALLEL) -m "not processes" --basetemp=.pytest-tmp/newest $(PYTEST_ARGS)
	.venv/bin/python -m pytest -m processes tests/processes --basetemp=.pytest-tmp/newest-processes $(PYTEST_ARGS)

test-lowest: sync-lowest
	@mkdir -p .pytest-tmp
	$(LOWEST_ENV)/bin/python -m pytest -m processes tests/processes --basetemp=.pytest-tmp/lowest-processes $(PYTEST_ARGS)
	$(LOWEST_ENV)/bin/python -m pytest $(PARALLEL) -m "not processes" $(VERSIONED_TESTS) \
		--basetemp=.pytest-tmp/lowest $(PYTEST_ARGS)

test-processes: sync  ## Only the tests that start real scheduler/triggerer processes
	.venv/bin/python -m pytest -m processes $(PYTEST_ARGS)

BATCH_BENCH_ARGS ?=
bench: sync  ## Benchmarks (about 20 min); TRIGGERER_SCALE_ARGS=--quick, BATCH_BENCH_ARGS="--pictures 200" shorten them
	.venv/bin/python bench/emulator_throughput.py
	.venv/bin/python bench/poll_client.py
	.venv/bin/python bench/triggerer_scale.py $(TRIGGERER_SCALE_ARGS)
	.venv/bin/python bench/batch_throughput.py $(BATCH_BENCH_ARGS)
	.venv/bin/python bench/batch_throughput.py --blocking $(BATCH_BENCH_ARGS)

clean:
	rm -rf .venv $(LOWEST_ENV) .tools output .pytest_cache .pytest-tmp .mypy_cache .ruff_cache

.PHONY: ui-check
ui-check: $(UV)  ## The connection form and the Runway tab in headless Debian chromium on Airflow 3.3 and 3.1 (screenshots: docs/screenshots/)
	@test -x /usr/bin/chromium || { $$([ "$$(id -u)" = 0 ] || echo sudo) apt-get update -qq \
		&& $$([ "$$(id -u)" = 0 ] || echo sudo) apt-get install -y -qq chromium; }
	$(UV) sync --frozen --quiet --group ui
	UV_PROJECT_ENVIRONMENT=$(LOWEST_ENV) $(UV) sync --frozen --quiet \
		--no-default-groups --group dev --group airflow-lowest --group ui
	.venv/bin/python -m pytest tests/ui -m ui $(PYTEST_ARGS)
	$(LOWEST_ENV)/bin/python -m pytest tests/ui -m ui $(PYTEST_ARGS)

.PHONY: test-scale test-ha test-celery
test-scale: sync  ## Hundreds of deferred Runway waits in one real triggerer (minutes; not in `make test`)
	.venv/bin/python -m pytest -m "processes and scale" tests/processes $(PYTEST_ARGS)

test-ha: sync  ## Two real triggerers on PostgreSQL, one SIGKILLed mid-wait
	.venv/bin/python -m pytest -m "processes and ha" tests/processes $(PYTEST_ARGS)

# Minutes per Airflow version (a 200-picture batch through real Celery workers): not in `make test`.
test-celery: sync sync-lowest  ## The batch DAG on the CeleryExecutor (Redis, PostgreSQL, S3 on moto), one of two workers SIGKILLed, on Airflow 3.3 and 3.1
	.venv/bin/python -m pytest -m "processes and celery" tests/processes $(PYTEST_ARGS)
	$(LOWEST_ENV)/bin/python -m pytest -m "processes and celery" tests/processes $(PYTEST_ARGS)
