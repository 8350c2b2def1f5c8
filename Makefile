# securelogin — two commands for a fresh machine (README "Quick start"):
#   make serve      venv + install, load the demo brokerage into ./securelogin.db, serve it
#   make test       venv + install, start PostgreSQL and provide chromium, run every check
#   make test-fast  the inner loop: lint, unit tests and service tests on fakes (no services)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: venv serve demo test test-fast lint typecheck contracts pytest bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# make serve [PORT=8000] [HOST=127.0.0.1]
serve demo: venv
	$(BIN)/securelogin demo $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: venv
	$(BIN)/mypy

contracts: venv
	$(BIN)/lint-imports

# pytest-xdist workers for `make test` (each has its own databases, ports and chromium);
# the suite also waits on subprocesses, servers and the browser: with 4 workers the two
# cores are 84 % busy (docs/development.md, "Measured"); other counts are not measured yet.
TEST_WORKERS ?= 4
# 0: the tests run on a PostgreSQL cluster of their own (initdb'd once into .cache/, on a
# free loopback port, fsync off, 200 connections), not on a server shared with other
# work; TEST_PG_PROBE_PORT=5432 uses a trust-auth server there when one answers.
TEST_PG_PROBE_PORT ?= 0

# The test command of the README and of .ci/run: static checks, then the whole suite
# against SQLite, a real PostgreSQL and Debian's chromium (scripts/test-services.sh
# uses a running server or starts its own, and installs what is missing), in random
# order (pytest-randomly prints the seed; `PYTEST_ARGS=--randomly-seed=N` repeats an order).
# The suite starts the `securelogin` command in hundreds of subprocesses: with
# PYTHONDONTWRITEBYTECODE set (as on these machines) each would compile the package's
# sources again, so they are compiled once here and the variable is dropped for the run.
test: lint typecheck contracts
	set -e; svc_env="$$(SECURELOGIN_TEST_PG_PROBE_PORT=$(TEST_PG_PROBE_PORT) scripts/test-services.sh)"; \
	eval "$$svc_env"; \
	unset PYTHONDONTWRITEBYTECODE; $(BIN)/python -m compileall -q src tests bench; \
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The inner loop, no services needed: ruff, the import contracts, then the unit tests and
# every service and contract test on the in-memory unit of work (tests/fake_uow.py).
test-fast: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 -m "unit or fake" $(PYTEST_ARGS)

# make bench [BENCH_ARGS=--quick]: installs wrk and nginx from Debian's packages when
# missing (scripts/bench-tools.sh; as root), starts PostgreSQL like the tests, runs bench/
bench: venv
	scripts/bench-tools.sh
	set -e; svc_env="$$(scripts/test-services.sh)"; eval "$$svc_env"; \
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .cache test-artifacts .mypy_cache .ruff_cache .pytest_cache
