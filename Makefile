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

# Each bench in a process of its own, appending its summary rows to one file; the table of
# them all is printed at the end (and again with `python -m bench.summary bench/last-run.jsonl`).
BENCH_SUMMARY := bench/last-run.jsonl
bench: $(STAMP)
	$(BIN)/python -m bench.summary $(BENCH_SUMMARY) --begin
	$(BIN)/python -m bench.bench_evaluation --summary $(BENCH_SUMMARY)
	$(BIN)/python -m bench.bench_end_to_end --summary $(BENCH_SUMMARY)
	$(BIN)/python -m bench.bench_console --summary $(BENCH_SUMMARY)
	$(BIN)/python -m bench.bench_assignment --summary $(BENCH_SUMMARY)
	$(BIN)/python -m bench.bench_offers --summary $(BENCH_SUMMARY)
	$(BIN)/python -m bench.bench_skills_claim --summary $(BENCH_SUMMARY)
	$(BIN)/python -m bench.bench_webhooks --summary $(BENCH_SUMMARY)
	$(BIN)/python -m bench.bench_streams --summary $(BENCH_SUMMARY)
	$(BIN)/python -m bench.bench_statistics --conversations 10000 --requests 10 --summary $(BENCH_SUMMARY)
	$(BIN)/python -m bench.summary $(BENCH_SUMMARY)

# Resolve pyproject.toml's ranges (and the test extra) anew, for every platform, with hashes.
# Run it after changing a dependency, or to take newer versions; commit requirements.lock.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet '$(UV)'
	printf 'setuptools>=68\n' | $(BIN)/uv pip compile pyproject.toml - --extra test --universal \
		--python-version 3.11 --generate-hashes --quiet -o $(LOCK)

clean:
	rm -rf $(VENV) .switchboard
