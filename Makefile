# Two commands for a fresh clone (see README): `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test venv deps dev-deps browser lint

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

deps: $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt

dev-deps: $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt

# Debian's Chromium for the end-to-end tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

## Install, create the store (and on an installation's first run the `admin` account, whose
## random password is printed once), fill it with demo data when empty, serve the app.
run: deps
	$(BIN)/python -m crm_core init
	$(BIN)/python -m crm_core demo --if-empty --customers $${DEMO_CUSTOMERS:-20000}
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true

lint: dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Install test dependencies (Python packages and Chromium), lint, run every test.
test: dev-deps browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest
