# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# `make bench` measures the application under gunicorn and PostgreSQL (see README, Performance).
#
# Dependencies are locked with hashes (README, Dependencies): requirements.txt is the runtime,
# requirements/test.txt the tests and checks, requirements/bench.txt the benchmark, each
# installed into .venv once and again whenever its lock changes. pip-tools and pip-audit live
# in their own environment, .venv-tools, so that they never change the application's.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .venv-tools
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

PIP_INSTALL = -m pip install --quiet --require-hashes

.PHONY: install install-test install-bench install-tools run test bench profile bench-simulate lint format \
	check-migrations check-schema check-layers check-types check fuzz browser-deps messages lock audit-feed audit clean

# --- environments --------------------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(TOOLS)/bin/python:
	$(PYTHON) -m venv $(TOOLS)

# A known pip first, so that it is the one checking every hash below.
$(VENV)/.installed-pip: requirements/pip.txt | $(BIN)/python
	$(BIN)/python $(PIP_INSTALL) -r requirements/pip.txt
	touch $@

$(VENV)/.installed-runtime: requirements.txt $(VENV)/.installed-pip
	$(BIN)/python $(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements/test.txt $(VENV)/.installed-runtime
	$(BIN)/python $(PIP_INSTALL) -r requirements/test.txt
	touch $@

$(VENV)/.installed-bench: requirements/bench.txt $(VENV)/.installed-runtime
	$(BIN)/python $(PIP_INSTALL) -r requirements/bench.txt
	touch $@

$(TOOLS)/.installed: requirements/pip.txt requirements/tools.txt | $(TOOLS)/bin/python
	$(TOOLS)/bin/python $(PIP_INSTALL) -r requirements/pip.txt
	$(TOOLS)/bin/python $(PIP_INSTALL) -r requirements/tools.txt
	touch $@

install: $(VENV)/.installed-runtime
install-test: $(VENV)/.installed-test
install-bench: $(VENV)/.installed-bench
install-tools: $(TOOLS)/.installed

# --- the application -----------------------------------------------------------------------

# The background jobs (message delivery, rewards processing, purges) run beside the server in
# one process with no broker (`run_jobs`), stopped with it; production runs them on Celery.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --base-url http://$(HOST):$(PORT)
	$(BIN)/python manage.py run_jobs & JOBS=$$!; trap 'kill $$JOBS 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The suite tests the benchmark's own code too (tests/bench), so it needs that lock as well.
test: install-test install-bench
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# DATABASE_URL (default postgres://postgres@127.0.0.1:5432/loyalty_bench) names a database the
# benchmark drops and recreates; BENCH_PORT (default 8111) the first of its two loopback ports.
bench: install-bench
	$(BIN)/python -m bench.run

# Where one operation's time goes (pyinstrument), on the databases `make bench` left behind.
OP ?= purchase
profile: install-bench
	$(BIN)/python -m bench.profile $(OP)

# The what-if simulator on 100,000 recorded sales (BENCH_SIMULATION_SALES), seeded into
# <DATABASE_URL's name>_simulation (dropped and recreated) and timed in one process.
bench-simulate: install-bench
	$(BIN)/python -m bench.simulation

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-migrations: install-test
	$(BIN)/python manage.py makemigrations --check --dry-run

check-schema: install-test
	$(BIN)/python manage.py spectacular --lang en --validate --fail-on-warn --file /dev/null

# The floors of the house (pyproject.toml, [tool.importlinter]): no import runs back up.
check-layers: install-test
	$(BIN)/lint-imports

# Types (pyproject.toml, [tool.mypy]): services, selectors, the engine and the seams between apps.
check-types: install-test
	$(BIN)/mypy

check: lint check-migrations check-schema check-layers check-types

# The pt-BR catalogue: gathers new strings, lists any left untranslated, compiles the
# committed .mo (needs gettext's tools: Debian's gettext package).
messages: install-test
	$(BIN)/python scripts/messages.py

# Schemathesis over the live API, both dialects; FUZZ_DATABASE_URL and FUZZ_PORT choose where.
fuzz: install-test
	$(BIN)/python scripts/fuzz.py

# Chromium and its driver for the back-office browser test (Debian packages; needs root).
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

# --- dependencies --------------------------------------------------------------------------

# Recompiles every lock from its requirements/*.in with pip-tools, keeping the pins that still
# fit; `make lock LOCK_ARGS=--upgrade` (or `--upgrade-package NAME`) moves them on. The order
# matters: each lock is constrained by the ones before it.
LOCK_ARGS ?=
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(TOOLS)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)

lock: $(TOOLS)/.installed
	$(PIP_COMPILE) --output-file requirements/pip.txt requirements/pip.in
	$(PIP_COMPILE) --output-file requirements.txt requirements/runtime.in
	$(PIP_COMPILE) --output-file requirements/test.txt requirements/test.in
	$(PIP_COMPILE) --output-file requirements/bench.txt requirements/bench.in
	$(PIP_COMPILE) --output-file requirements/tools.txt requirements/tools.in

# Every lock against a vulnerability feed, PyPI's unless AUDIT_SERVICE names another of
# pip-audit's (`osv`). Any known vulnerability fails, unless its ID is in
# requirements/audit-ignore.txt with a reason; so does a package the feed cannot answer for.
# `make audit-feed` tells first whether the feed answers from here at all: asked about pip's
# pinned release, it must not answer "not found".
AUDIT_SERVICE ?= pypi
AUDIT_LOCKS := requirements/pip.txt requirements.txt requirements/test.txt requirements/bench.txt \
	requirements/tools.txt
AUDIT_IGNORE := requirements/audit-ignore.txt
PIP_AUDIT = $(TOOLS)/bin/pip-audit --vulnerability-service $(AUDIT_SERVICE) --require-hashes \
	--disable-pip --progress-spinner off

audit-feed: $(TOOLS)/.installed
	@! $(PIP_AUDIT) --requirement requirements/pip.txt --format json 2>/dev/null \
	  | grep -q '"skip_reason"' || { echo "The vulnerability feed ($(AUDIT_SERVICE)) knows no" \
	  "release of pip: it does not answer from here, and nothing can be audited."; exit 1; }

audit: audit-feed
	@awk '!/^[[:space:]]*(#|$$)/ && !/#[[:space:]]*[^[:space:]#]/ { \
	  print FILENAME ":" FNR ": no reason given for " $$1; bad = 1 } END { exit bad }' $(AUDIT_IGNORE)
	@ignored="$$(awk '!/^[[:space:]]*(#|$$)/ { printf "--ignore-vuln %s ", $$1 }' $(AUDIT_IGNORE))"; \
	for lock in $(AUDIT_LOCKS); do \
	  echo "pip-audit: $$lock"; \
	  $(PIP_AUDIT) --strict --requirement $$lock $$ignored || exit 1; \
	done

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .ruff_cache
