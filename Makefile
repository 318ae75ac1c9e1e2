# rolegate — the fixed targets (see docs/design.md). Recipes use tabs.
# A distribution's Python 3.11 where there is one: Debian's is built with
# PGO and LTO and links libpython statically, pyenv's default build has
# neither. AssumeRole in process: 177 vs 192 us of CPU per request; through
# the server, 5% more requests/s (bench/bench_sts.py, alternated runs).
PY ?= $(firstword $(wildcard /usr/bin/python3.11) python3.11)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lock system-deps run test test-sqlite test-postgres bench lint clean fuzz

# The pinned set: every package `make install` puts in the venv, pip and
# the build backend included, at the version in constraints.txt. PIP_CONSTRAINT
# (rather than -c) also reaches pip's isolated build of the editable package.
# `make lock` refreshes it from the newest releases that pyproject.toml admits;
# review the diff and run `make test` before committing it.
LOCK := constraints.txt
PIN := PIP_CONSTRAINT=$(CURDIR)/$(LOCK)

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv --clear $(VENV)
	$(PIN) $(BIN)/python -m pip install -q pip setuptools wheel
	$(PIN) $(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

lock:
	rm -rf .lock-venv build
	$(PY) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q --upgrade pip setuptools wheel
	.lock-venv/bin/python -m pip install -q '.[dev]'
	{ echo "# The pinned set that make install uses. Made by make lock: do not edit."; \
	  .lock-venv/bin/python -m pip freeze --all --exclude rolegate; } > $(LOCK)
	rm -rf .lock-venv build

# Debian packages the tests need (xmlsec1); installs them when missing.
system-deps:
	@.ci/system-deps

HOST ?= 127.0.0.1
PORT ?= 8080
DATA ?= ./data

# The install is a minute of silence on a first run (pip -q): say what is
# happening first. `make -q` only asks whether the venv is up to date.
INSTALLING := echo "rolegate: installing the pinned set (constraints.txt) into $(VENV) ... (about a minute, once)"

run:
	@$(MAKE) -s -q $(STAMP) 2>/dev/null || $(INSTALLING)
	@$(MAKE) -s --no-print-directory $(STAMP)
	$(BIN)/rolegate run-local --data-dir $(DATA) --host $(HOST) --port $(PORT)

# The whole suite (or TESTS=paths). ROLEGATE_TEST_DATABASE_URL, when set,
# makes every test that opens a store or starts a server use that database
# (CI sets it to the local PostgreSQL).
TESTS ?=

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider $(TESTS)

# The fuzzer (tests/fuzz): FUZZ_COUNT seeded requests in process, then
# FUZZ_SERVER_COUNT against a real `rolegate serve`; failing cases are
# appended to FUZZ_OUT (replay: python -m tests.fuzz --replay FILE).
# `make test` runs a few thousand of them (tests/fuzz/test_fuzz.py).
FUZZ_COUNT ?= 1000000
FUZZ_SERVER_COUNT ?= 10000
FUZZ_SEED ?= 1
FUZZ_OUT ?= fuzz-failures.jsonl

fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz --count $(FUZZ_COUNT) --server-count $(FUZZ_SERVER_COUNT) \
	  --seed $(FUZZ_SEED) --out $(FUZZ_OUT)

bench:
	@$(MAKE) -s -q $(STAMP) 2>/dev/null || $(INSTALLING)
	@$(MAKE) -s --no-print-directory $(STAMP)
	@mkdir -p bench/results
	$(BIN)/python bench/run.py

# ruff, then mypy (its settings, strict on the core: [tool.mypy] in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data .pytest_cache
