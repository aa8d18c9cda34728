# The two commands: `make demo` (install, generate demo data, run the pipeline, serve the dashboard)
# and `make test` (install and run the whole test suite). Everything else is a helper of those.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DO_NOT_TRACK := 1

.PHONY: demo test install system-deps ui dashboard run clean

demo: install
	$(BIN)/huikuan demo

test: install system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

system-deps:
	bash scripts/system-deps.sh

ui: install
	$(BIN)/huikuan ui

dashboard: install
	$(BIN)/huikuan dashboard

run: install
	$(BIN)/huikuan run

clean:
	rm -rf $(VENV) data dbt_project/target dbt_project/logs bench/results
