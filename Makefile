# cspkit: `make demo` builds a full strategic assessment from the bundled data; `make test` runs the tests.
# Every target installs what it needs first (idempotent and fast when already present).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Compiled bytecode is installed, so commands start at once where PYTHONDONTWRITEBYTECODE is set (else every run
# compiles every module it imports again: about 3.6 s). The stamp covers venvs made before --compile-bytecode.
COMPILED := $(VENV)/.compiled
DEMO := demo-workspace
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup test lint demo bench docs lock clean system-packages web-packages serve

setup: system-packages web-packages $(STAMP) $(COMPILED)
	@$(BIN)/python -m compileall -q src/cspkit >/dev/null  # changed modules only: commands start without compiling

# Debian packages: poppler-utils renders and reads PDFs (tests look at the report pages); HarfBuzz subsetting and
# DejaVu fonts for WeasyPrint.
system-packages:
	@command -v pdftotext >/dev/null 2>&1 && ldconfig -p | grep -q libharfbuzz-subset || { \
	  echo "Installing Debian packages (poppler-utils)..."; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends poppler-utils libharfbuzz-subset0 fonts-dejavu-core >/dev/null; }

# The web workspace's tests: Debian Chromium (Playwright drives it; `playwright install` cannot download here) and
# PostgreSQL 15 (the test suite starts a throwaway cluster). Both are skipped quickly when already installed.
web-packages:
	@command -v chromium >/dev/null 2>&1 && test -x /usr/lib/postgresql/15/bin/initdb || { \
	  echo "Installing Debian packages (chromium, postgresql)..."; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium postgresql >/dev/null; }

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv==0.13.9
	@test -x $(BIN)/python || uv venv -q --python $$(command -v $(PYTHON)) $(VENV)
	uv pip install -q -p $(BIN)/python --compile-bytecode --require-hashes -r requirements.txt -r requirements-dev.txt
	uv pip install -q -p $(BIN)/python --no-deps -e .
	@touch $(STAMP)

$(COMPILED): $(STAMP)
	@echo "Compiling installed packages to bytecode (once)..."
	@$(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1 || true  # a few packages ship test files that do not compile
	@touch $(COMPILED)

test: setup
	$(BIN)/python -m pytest -n 2 tests

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

demo: setup
	bash scripts/demo.sh $(DEMO)

# The web workspace on the demo workspace (built first if missing), with a first administrator.
serve: setup
	bash scripts/serve.sh $(DEMO)

bench: setup
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/web.py

docs: setup
	$(BIN)/python -m cspkit.docs

# Re-pin dependencies (versions and hashes only; never a lock format that records download addresses).
lock:
	uv pip compile -q --generate-hashes --python-version 3.11 requirements.in -o requirements.txt
	uv pip compile -q --generate-hashes --python-version 3.11 requirements-dev.in -o requirements-dev.txt

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .ruff_cache .mypy_cache
