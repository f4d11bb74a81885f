# Signet: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 5000
export FLASK_APP := app.py

.PHONY: help setup run worker test lint fmt db-upgrade db-migrate translations i18n-extract bench screenshots clean

help:
	@echo "make run         set up and serve the portal on http://127.0.0.1:$(PORT)"
	@echo "make test        set up and run the lint and the whole test suite"
	@echo "make worker      run an RQ worker (needs REDIS_URL)"
	@echo "make db-upgrade  apply migrations;  make db-migrate m='message' to write one"
	@echo "make i18n-extract  refresh the translation catalogs from the code"
	@echo "make screenshots  replay the README's walkthrough in Chromium into docs/screenshots/"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Signet needs Python 3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) translations

translations: $(STAMP)
	@$(BIN)/pybabel -q compile -d portal/translations -D messages

i18n-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o portal/translations/messages.pot .
	$(BIN)/pybabel update -N --ignore-obsolete -i portal/translations/messages.pot -d portal/translations

db-upgrade: setup
	$(BIN)/flask db upgrade

db-migrate: setup
	$(BIN)/flask db migrate -m "$(m)"

# Links in mails, SMS and the certificate point where `make run` serves, unless set.
run: export SIGNET_BASE_URL ?= http://127.0.0.1:$(PORT)
run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask signet seed
	@echo "Links in mail, SMS and certificates point to $(SIGNET_BASE_URL)"
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

worker: setup
	@test -n "$${REDIS_URL}" || { echo "set REDIS_URL (e.g. redis://127.0.0.1:6379/0)"; exit 1; }
	$(BIN)/flask signet worker

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

fmt: $(STAMP)
	$(BIN)/ruff check --fix .

# The single sign-on tests run a real OpenID provider (node oidc-provider, pinned in its lock
# file). Without npm they are skipped, or fail under SIGNET_REQUIRE_SERVICES=1.
OIDC_PROVIDER := tests/oidc_provider
OIDC_PROVIDER_STAMP := $(OIDC_PROVIDER)/node_modules/.installed-stamp
$(OIDC_PROVIDER_STAMP): $(OIDC_PROVIDER)/package.json $(OIDC_PROVIDER)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the single sign-on tests need node and npm"; fi

# One worker per core and one more (at most 4): tests spend part of their time waiting on
# sandbox children, servers and the browser, and the extra worker fills it (on 2 cores: 3
# workers 6.2 min, 2 workers 7.4, 4 workers 7.2). Each has its own databases, Redis
# db, servers and browser. Ends with the 15 slowest tests (setup and call listed apart).
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n + 1 < 4 ? n + 1 : 4 )))
test: setup lint $(OIDC_PROVIDER_STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope --durations=15

# Every bench prints its figures; those holding goals run last and rewrite the README's table.
bench: setup
	$(BIN)/python bench/readme_table.py --all

# The README's walkthrough, played in Chromium against a fresh temporary instance on a free
# port (SQLite, demo data, jobs in-process, the outbox viewer): one PNG per step.
screenshots: setup
	$(BIN)/python tools/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info $(OIDC_PROVIDER)/node_modules
