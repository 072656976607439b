# OpenHEP: `make run` serves the app with the demo clinic; `make test` runs the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_VERSION := $(shell cat .python-version)
UV := .tools/bin/uv
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run test test-browser lint format bench clean

help:
	@echo "make run    install, migrate, load the library and the demo clinic, serve on http://$(HOST):$(PORT)"
	@echo "make test   install and run the whole test suite (SQLite, or DATABASE_URL)"
	@echo "make lint   ruff check and format check"

$(UV):
	@command -v python$(PYTHON_VERSION) >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || \
	  { echo "Python $(PYTHON_VERSION) is required (see .python-version)." >&2; exit 1; }
	@echo "Installing uv into .tools/ ..."
	@python3 -m venv .tools || { echo "Could not create .tools/ with 'python3 -m venv' (install python3-venv)." >&2; exit 1; }
	@.tools/bin/pip install --quiet --disable-pip-version-check uv
	@$(UV) --version

.venv/.synced: $(UV) pyproject.toml uv.lock
	@$(UV) sync --frozen --python $(PYTHON_VERSION)
	@$(PY) -c "import weasyprint" 2>/dev/null || { echo "WeasyPrint cannot load its system libraries: install Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0)." >&2; exit 1; }
	@touch $@

install: .venv/.synced

run: install
	@DEBUG=$${DEBUG:-1} EMAIL_URL=$${EMAIL_URL:-file://$(CURDIR)/var/mail} $(PY) manage.py migrate --no-input
	@DEBUG=$${DEBUG:-1} EMAIL_URL=$${EMAIL_URL:-file://$(CURDIR)/var/mail} $(PY) manage.py load_library
	@DEBUG=$${DEBUG:-1} EMAIL_URL=$${EMAIL_URL:-file://$(CURDIR)/var/mail} $(PY) manage.py demo
	@echo "Emails are written to var/mail/ (set EMAIL_URL to use a real SMTP server)."
	@echo "Open http://$(HOST):$(PORT)/accounts/login/ and log in with a login above."
	@DEBUG=$${DEBUG:-1} EMAIL_URL=$${EMAIL_URL:-file://$(CURDIR)/var/mail} $(PY) manage.py runserver $(HOST):$(PORT)

test: install
	@SECRET_KEY=$${SECRET_KEY:-tests-only-not-secret} $(PY) -m pytest $(PYTEST_ARGS)

test-browser: install
	@SECRET_KEY=$${SECRET_KEY:-tests-only-not-secret} $(PY) -m pytest -m browser $(PYTEST_ARGS)

lint: install
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

format: install
	@.venv/bin/ruff format .
	@.venv/bin/ruff check --fix .

bench: install
	@DATABASE_URL="$(DATABASE_URL)" $(PY) -m bench.run

clean:
	rm -rf .venv .tools .pytest_cache
