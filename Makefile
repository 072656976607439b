# OpenHEP: `make run` serves the app with the demo clinic; `make test` runs the suite.
# `make help` lists every target (the text after `##` on each target's line).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_VERSION := $(shell cat .python-version)
UV := .tools/bin/uv
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes in parallel (pytest-xdist): `auto` is one per core; 0 runs in this process.
PYTEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup
# The suite always runs with production's defaults (DEBUG off), whatever .env says.
TEST_ENV := DEBUG=0 SECRET_KEY=$${SECRET_KEY:-tests-only-not-secret}
# Commands a developer runs by hand: development mode unless DEBUG is set.
DEV_ENV := DEBUG=$${DEBUG:-1} EMAIL_URL=$${EMAIL_URL:-file://$(CURDIR)/var/mail}

.PHONY: help install run test test-browser lint format bench screenshots clean

help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z.-]+:.*## / { printf "make %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

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

install: .venv/.synced ## install uv into .tools/ and the locked dependencies into .venv/

# The browser tests' accessibility checker (axe-core, package-lock.json); never served.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the browser tests' accessibility checks will be skipped (apt-get install npm)."; fi

# Written once, never overwritten: delete .env to get a new one.
.env: | .venv/.synced ## write a development .env (DEBUG=1, a new SECRET_KEY) if there is none
	@$(PY) -c 'import os, secrets; fd = os.open(".env", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600); \
	  os.write(fd, ("# Local development only (written by make run). See .env.example.\nDEBUG=1\nSECRET_KEY=" + secrets.token_urlsafe(50) + "\n").encode())'
	@echo "Wrote .env for local development (DEBUG=1 and a new SECRET_KEY): manage.py commands now work here."

run: install .env ## install, migrate, load the library and the demo clinic, serve on http://127.0.0.1:8000 (HOST, PORT)
	@$(DEV_ENV) $(PY) manage.py migrate --no-input
	@$(DEV_ENV) $(PY) manage.py load_library
	@$(DEV_ENV) $(PY) manage.py demo
	@echo "Emails are written to var/mail/ (set EMAIL_URL to use a real SMTP server)."
	@echo "Open http://$(HOST):$(PORT)/accounts/login/ and log in with a login above."
	@$(DEV_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

test: install node_modules/.package-lock.json ## install and run the whole suite in parallel (SQLite, or DATABASE_URL); PYTEST_ARGS adds options
	@$(TEST_ENV) $(PYTEST) $(PYTEST_ARGS)

test-browser: install node_modules/.package-lock.json ## only the browser tests (Playwright and Chromium)
	@$(TEST_ENV) $(PYTEST) -m browser $(PYTEST_ARGS)

lint: install ## ruff, ruff format, djlint, mypy, the import contract, makemigrations --check
	@echo "== ruff check" && .venv/bin/ruff check .
	@echo "== ruff format --check" && .venv/bin/ruff format --check .
	@echo "== djlint --check (template formatting)" && .venv/bin/djlint templates --check
	@echo "== djlint --lint (template rules)" && .venv/bin/djlint templates --lint
	@echo "== mypy (django-stubs)" && DEBUG=1 .venv/bin/mypy
	@echo "== lint-imports (the import contract)" && .venv/bin/lint-imports --no-logo
	@echo "== makemigrations --check" && DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	@echo "== lint passed"

format: install ## rewrite Python (ruff) and templates (djlint) in the house style
	@.venv/bin/ruff format .
	@.venv/bin/ruff check --fix .
	@.venv/bin/djlint templates --reformat --quiet

bench: install ## run the benchmarks (bench/README.md)
	@DATABASE_URL="$(DATABASE_URL)" $(PY) -m bench.run

screenshots: install ## take the README's screenshots again (docs/screenshots/, Chromium)
	@$(PY) docs/screenshots/take.py

clean: ## remove the installed tools, the virtualenv and the caches (never .env or var/)
	rm -rf .venv .tools .pytest_cache .ruff_cache .mypy_cache .import_linter_cache

# The container image (docs/deploy.md). CONTAINER: podman or docker; BASE_IMAGE: another
# Debian bookworm image with Python 3.12 in /usr/local (deploy/local-base-image.sh makes one).
CONTAINER ?= $(shell command -v podman >/dev/null 2>&1 && echo podman || echo docker)
IMAGE ?= localhost/openhep:latest
.PHONY: image
image: ## build the container image IMAGE (podman or docker; BASE_IMAGE to change the base)
	$(CONTAINER) build $(if $(filter podman,$(notdir $(CONTAINER))),--format docker) \
	  $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) -f Containerfile -t $(IMAGE) .
