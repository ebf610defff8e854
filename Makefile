# cspkit: `make demo` builds a full strategic assessment from the bundled data; `make test` runs the tests.
# Every target installs what it needs first (idempotent and fast when already present).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := demo-workspace
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup test lint demo bench docs lock clean system-packages

setup: system-packages $(STAMP)

# Debian packages: poppler-utils renders and reads PDFs (tests look at the report pages); HarfBuzz subsetting and
# DejaVu fonts for WeasyPrint.
system-packages:
	@command -v pdftotext >/dev/null 2>&1 && ldconfig -p | grep -q libharfbuzz-subset || { \
	  echo "Installing Debian packages (poppler-utils)..."; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends poppler-utils libharfbuzz-subset0 fonts-dejavu-core >/dev/null; }

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv==0.13.9
	@test -x $(BIN)/python || uv venv -q --python $$(command -v $(PYTHON)) $(VENV)
	uv pip install -q -p $(BIN)/python --require-hashes -r requirements.txt -r requirements-dev.txt
	uv pip install -q -p $(BIN)/python --no-deps -e .
	@touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -n 2 tests

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

demo: setup
	bash scripts/demo.sh $(DEMO)

bench: setup
	$(BIN)/python benchmarks/run.py

docs: setup
	$(BIN)/python -m cspkit.docs

# Re-pin dependencies (versions and hashes only; never a lock format that records download addresses).
lock:
	uv pip compile -q --generate-hashes --python-version 3.11 requirements.in -o requirements.txt
	uv pip compile -q --generate-hashes --python-version 3.11 requirements-dev.in -o requirements-dev.txt

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .ruff_cache .mypy_cache
