# rolegate — the fixed targets (see ../shared/DESIGN.md). Recipes use tabs.
# A distribution's Python 3.11 where there is one: Debian's is built with
# PGO and LTO and links libpython statically, pyenv's default build has
# neither. AssumeRole in process: 177 vs 192 us of CPU per request; through
# the server, 5% more requests/s (bench/bench_sts.py, alternated runs).
PY ?= $(firstword $(wildcard /usr/bin/python3.11) python3.11)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps run test test-sqlite test-postgres bench lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv --clear $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Debian packages the tests need (xmlsec1); installs them when missing.
system-deps:
	@.ci/system-deps

HOST ?= 127.0.0.1
PORT ?= 8080
DATA ?= ./data

run: $(STAMP)
	$(BIN)/rolegate run-local --data-dir $(DATA) --host $(HOST) --port $(PORT)

# The whole suite (or TESTS=paths). ROLEGATE_TEST_DATABASE_URL, when set,
# makes every test that opens a store or starts a server use that database
# (CI sets it to the local PostgreSQL).
TESTS ?=

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider $(TESTS)

bench: $(STAMP)
	@mkdir -p bench/results
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) data .pytest_cache
