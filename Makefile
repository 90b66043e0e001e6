# Two commands for a newcomer: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint format bench-ingest bench-inbox clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py demo_setup
	$(BIN)/python manage.py run_demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py

bench-inbox: $(STAMP)
	$(BIN)/python bench/inbox.py

clean:
	rm -rf var .pytest_cache
