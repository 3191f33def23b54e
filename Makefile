# nianbao — one command for the demo, one for the tests (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO := build/demo

.PHONY: install demo test lint format ui bench fuzz clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("需要 Python 3.11 或更高版本 (found %s)" % sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: install
	$(BIN)/nianbao demo --home $(DEMO)

test: install
	bash .ci/install-system-packages
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The Dagster UI on 127.0.0.1:3000 over the demo home (run `make demo` first).
ui: install
	mkdir -p build/dagster-home
	cp dagster.yaml build/dagster-home/dagster.yaml
	DAGSTER_HOME=$(abspath build/dagster-home) NIANBAO_HOME=$(abspath $(DEMO)/shifanqu) \
		$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# Longer fuzzing of the readers and the per-file check; failing inputs land in tests/fuzz_corpus/.
fuzz: install
	NIANBAO_FUZZ_EXAMPLES=$${NIANBAO_FUZZ_EXAMPLES:-3000} NIANBAO_FUZZ_SAVE=1 $(BIN)/pytest -q tests/test_fuzz.py

bench: install
	$(BIN)/python benchmarks/bench_build.py

clean:
	rm -rf build
