# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# `make bench` measures the application under gunicorn and PostgreSQL (see README, Performance).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install run test bench profile lint format check-migrations check-schema check fuzz browser-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --base-url http://$(HOST):$(PORT)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# DATABASE_URL (default postgres://postgres@127.0.0.1:5432/loyalty_bench) names a database the
# benchmark drops and recreates; BENCH_PORT (default 8111) the first of its two loopback ports.
bench: install
	$(BIN)/python -m bench.run

# Where one operation's time goes (pyinstrument), on the databases `make bench` left behind.
OP ?= purchase
profile: install
	$(BIN)/python -m bench.profile $(OP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-migrations: install
	$(BIN)/python manage.py makemigrations --check --dry-run

check-schema: install
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

check: lint check-migrations check-schema

# Schemathesis over the live API, both dialects; FUZZ_DATABASE_URL and FUZZ_PORT choose where.
fuzz: install
	$(BIN)/python scripts/fuzz.py

# Chromium and its driver for the back-office browser test (Debian packages; needs root).
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
