# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/switchboard dev

test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Ruff and mypy, configured in pyproject.toml; `make test` runs them first.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.bench_evaluation
	$(BIN)/python -m bench.bench_end_to_end
	$(BIN)/python -m bench.bench_console
	$(BIN)/python -m bench.bench_assignment
	$(BIN)/python -m bench.bench_webhooks

clean:
	rm -rf $(VENV) .switchboard
