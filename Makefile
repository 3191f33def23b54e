# nianbao — one command for the demo, one for the tests (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO := build/demo

.PHONY: install demo demo-fresh test lint format ui serve bench fuzz clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("需要 Python 3.11 或更高版本 (found %s)" % sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# Keeps an existing demo home's portal tokens and uploads; `make demo-fresh` starts over.
demo: install
	$(BIN)/nianbao demo --home $(DEMO)

demo-fresh: install
	$(BIN)/nianbao demo --home $(DEMO) --fresh

# Every core (pytest-xdist): a file's tests, and the files sharing a demo build, stay on
# one worker (tests/conftest.py). TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto
test: install
	bash .ci/install-system-packages
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The demo home's whole system on loopback (run `make demo` first): Dagster UI on
# 127.0.0.1:3000, daemon (sensor, schedule, run queue), portal on 127.0.0.1:8400.
# Runs land in the home's own instance (build/demo/shifanqu/dagster/), so the UI
# shows the builds `make demo` made.
ui: install
	$(BIN)/nianbao serve --home $(DEMO)/shifanqu --port 8400 --ui-port 3000

# The same for any data home: make serve HOME_DIR=/srv/nianbao/home
HOME_DIR ?= $(DEMO)/shifanqu
serve: install
	$(BIN)/nianbao serve --home $(HOME_DIR)

# Longer fuzzing of the readers and the per-file check; failing inputs land in tests/fuzz_corpus/.
fuzz: install
	NIANBAO_FUZZ_EXAMPLES=$${NIANBAO_FUZZ_EXAMPLES:-3000} NIANBAO_FUZZ_SAVE=1 $(BIN)/pytest -q tests/test_fuzz.py

bench: install
	$(BIN)/python benchmarks/bench_build.py

clean:
	rm -rf build
