# securelogin — two commands for a fresh machine (README "Quick start"):
#   make serve   venv + install, load the demo brokerage into ./securelogin.db, serve it
#   make test    venv + install, start PostgreSQL and provide chromium, run every check
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: venv serve demo test lint typecheck contracts pytest bench clean

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

# The test command of the README and of .ci/run: static checks, then the whole suite
# against SQLite, a real PostgreSQL and Debian's chromium (scripts/test-services.sh
# uses a running server or starts its own, and installs what is missing).
test: lint typecheck contracts
	set -e; svc_env="$$(scripts/test-services.sh)"; eval "$$svc_env"; \
	$(BIN)/pytest $(PYTEST_ARGS)

bench: venv
	set -e; svc_env="$$(scripts/test-services.sh)"; eval "$$svc_env"; \
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .cache test-artifacts .mypy_cache .ruff_cache .pytest_cache
