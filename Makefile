# Two commands for a newcomer: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-clock install lint format bench-ingest bench-inbox clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py demo_setup --no-logins
	$(BIN)/python manage.py run_demo

# With no DATABASE_URL, `make test` runs the suite on the embedded default and then, where
# PostgreSQL and Redis answer on this machine's default ports, the tests that need them against
# those servers (tests/local_services.py). WEBCARE_LOCAL_SERVICES=0 turns the second run off.
LOCAL_DATABASE_URL := postgres://postgres@127.0.0.1:5432/webcare
LOCAL_REDIS_URL := redis://127.0.0.1:6379/9

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -z "$$DATABASE_URL" ] && [ "$$WEBCARE_LOCAL_SERVICES" != 0 ] \
	    && $(BIN)/python -m tests.local_services; then \
	  echo "== the tests that need PostgreSQL or Redis, on this machine's servers"; \
	  DATABASE_URL=$(LOCAL_DATABASE_URL) REDIS_URL=$(LOCAL_REDIS_URL) \
	    $(BIN)/python -m pytest -m "postgres or redis" $(PYTEST_ARGS); \
	fi

# The guard against tests that hold today's date: the suite (browser tests aside: Chromium keeps
# the real clock) on the embedded default with the clock moved years ahead and years behind.
CLOCK_SHIFTS ?= 1826 -1461

test-clock: $(STAMP)
	@for days in $(CLOCK_SHIFTS); do \
	  echo "== the suite with the clock moved $$days days"; \
	  env -u DATABASE_URL -u REDIS_URL WEBCARE_CLOCK_SHIFT_DAYS=$$days \
	    $(BIN)/python -m pytest -q -m "not browser" -p no:cacheprovider $(PYTEST_ARGS) || exit 1; \
	done

# Style, the import boundaries (.importlinter) and the types of inbox/ and channels/ (mypy with
# django-stubs: any type error fails).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py

bench-inbox: $(STAMP)
	$(BIN)/python bench/inbox.py

clean:
	rm -rf var .pytest_cache
