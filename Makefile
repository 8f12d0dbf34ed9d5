# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# The tool that writes the lock; only `make lock` installs it.
UV := uv==0.13.9

.PHONY: run test lint bench lock clean

# Every package comes from the lock, each checked against its hash; setuptools, which builds
# Switchboard itself, is locked too, so nothing is resolved at install time.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
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
	$(BIN)/python -m bench.bench_streams

# Resolve pyproject.toml's ranges (and the test extra) anew, for every platform, with hashes.
# Run it after changing a dependency, or to take newer versions; commit requirements.lock.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet '$(UV)'
	printf 'setuptools>=68\n' | $(BIN)/uv pip compile pyproject.toml - --extra test --universal \
		--python-version 3.11 --generate-hashes --quiet -o $(LOCK)

clean:
	rm -rf $(VENV) .switchboard
