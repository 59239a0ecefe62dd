# Everything a newcomer needs: `make demo` and `make test` set up .venv on their own.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: screenshot demo test lint typecheck check bench docs clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/iecmhc demo

# docs/img/: each report of the demo at 390 px and 1280 px, rendered by headless Chromium.
screenshot: demo
	$(BIN)/python docs/screenshot.py

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples adapters
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

docs: $(STAMP)
	$(BIN)/python -m mkdocs build --strict -d site

# Peer-library benchmark (benchmarks/README.md). Peers get their own venvs under
# benchmarks/.venvs (created on first run). Example:
#   make bench ARGS="--rows 100000 --systems ours-sqlite,floor-sqlite,pipelinedp"
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[all,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/compare.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis site
