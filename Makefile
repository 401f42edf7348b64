# Two commands matter: `make run` (the desk, with the emulator standing in for
# Twilio when no credentials are set) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-postgresql lint format install browser clean bench-deps translations messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/installed

# The browser tests drive Debian's chromium: Playwright cannot download its own browsers here.
CHROMIUM ?= /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" != 0 ]; then echo "The browser tests need chromium: sudo apt-get install chromium" >&2; exit 1; fi
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

browser: $(CHROMIUM)

# The pages in Dutch and French (flask-babel): the catalogs are kept as .po files and compiled here.
TRANSLATIONS := app/web/translations
COMPILED := $(patsubst %.po,%.mo,$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po))

%.mo: %.po $(VENV)/installed
	$(BIN)/pybabel -q compile -f -i $< -o $@

translations: $(COMPILED)

# After marking strings with _() in code or templates: extract them and merge them into every catalog.
# Refusals the engine and the directory write (app.wording) are extracted from the exceptions they raise.
messages: install
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l -k N_ -k Invalid -k InvalidRecord -k NotFound -k OnsiteNotIncluded -k Refused --sort-output --no-location -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching

run: install translations
	scripts/run

test: install browser translations
	$(BIN)/python -m pytest -q --durations=10 $(PYTEST_ARGS)

test-postgresql: install browser translations
	DATABASE_URL=$${DATABASE_URL:-postgresql+psycopg://127.0.0.1:5432/test} $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Style, and the layering of DESIGN §1 (.importlinter: pages and the phone line over the engine over the core).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

# The load generator and servers the benchmarks in bench/ use (Debian packages; run as root).
bench-deps: install
	apt-get update -qq && apt-get install -y wrk redis-server postgresql
