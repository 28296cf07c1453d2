# The two commands README shows: `make demo` and `make test`.
# Both create .venv with python3.11 and install dtwrl with its pinned versions when needed.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.dtwrl-installed

.PHONY: setup demo lint format test test-slow benchmark clean

$(STAMP): setup.cfg pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "error: $(PYTHON) was not found on PATH. dtwrl needs Python 3.11 (tensorflow 2.15.1 has no wheels for newer Pythons)."; \
	  echo "       Install it (e.g. 'pyenv install 3.11' or 'apt-get install python3.11 python3.11-venv') or run 'make PYTHON=/path/to/python3.11 ...'."; \
	  exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==24.3.1"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,distributed]"
	@touch $(STAMP)

# the SIMD soft-DTW kernel (dtwrl/tf/_lanes.cpp) is compiled with g++ into ~/.cache/dtwrl (or $DTWRL_BUILD_DIR);
# built here ahead of first use; without a compiler dtwrl says so and uses its numba kernel
setup: $(STAMP)
	$(PY) -m dtwrl.tf._lanes

demo: setup
	$(PY) experiments/quickstart.py

# ruff: lint rules and formatting are configured in pyproject.toml
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# pytest exits 5 when it collected no test; that must not fail CI.
# The suite runs on one pytest-xdist worker per physical core, 4 at most (TEST_WORKERS=0: in this process).
TEST_WORKERS ?= auto
test: setup
	$(PY) -m pytest -n $(TEST_WORKERS) --maxprocesses 4; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

test-slow: setup
	$(PY) -m pytest -m slow

# the benchmarks also compare with tslearn (the `bench` extra)
benchmark: setup
	$(PY) -m pip install --quiet -c constraints.txt -e ".[bench]"
	$(PY) experiments/benchmark.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
