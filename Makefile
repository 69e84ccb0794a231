# itsmflow — `make run` serves the app on SQLite; `make test` runs the whole suite.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
export ITSMFLOW_DATABASE_URL ?= sqlite:///$(CURDIR)/instance/itsmflow.db

.PHONY: help setup run test lint bench clean browser-deps instance-ready

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# Installs print their progress (a first set-up downloads a few hundred MB); pip and npm keep their own caches.
$(STAMP): pyproject.toml
	@echo "==> [1/3] Python packages into .venv (first time: a minute or two)"
	python3 -m venv .venv
	$(PIP) install --progress-bar on --upgrade pip
	$(PIP) install --progress-bar on -e '.[dev]'
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	@echo "==> [2/3] npm packages (bpmn-js, dmn-js) into node_modules"
	npm ci --no-audit --no-fund --foreground-scripts
	touch node_modules/.installed

web/static/vendor/BUILD.json: node_modules/.installed $(wildcard web/assets/*)
	@echo "==> [3/3] bundling the diagram editors"
	npm run build

setup: $(STAMP) node_modules/.installed web/static/vendor/BUILD.json ## create .venv, install Python and npm packages, bundle the diagram editors
	@$(PY) -c "pass"

browser-deps: ## install Debian's chromium for the browser tests when /usr/bin/chromium is missing (waits for apt's lock)
	@tools/install-chromium.sh

instance-ready: setup
	.venv/bin/itsmflow db upgrade
	.venv/bin/itsmflow deploy processes
	.venv/bin/itsmflow seed-demo

run: setup ## set up, migrate SQLite under instance/, install processes/ not yet deployed (never over owners' versions), seed demo users and the demo catalogue, serve on :5000 with a worker
	@$(MAKE) --no-print-directory instance-ready
	@echo "itsmflow on http://$(HOST):$(PORT)  (users alice, bob, carol, dave, erin, frank, grace, heidi, ivan, stella, dora, cora, percy, admin; password demo)"
	@.venv/bin/itsmflow worker --supervise & WORKER=$$!; trap "kill $$WORKER 2>/dev/null" EXIT INT TERM; \
	  .venv/bin/gunicorn --bind $(HOST):$(PORT) --worker-class gthread --workers 2 --threads 4 --access-logfile - web.wsgi:app

test: setup browser-deps ## install everything and run lint, import contracts, the type check and the whole test suite
	.venv/bin/ruff check .
	.venv/bin/lint-imports
	.venv/bin/mypy
	$(PY) -m pytest

lint: setup ## ruff, the import-linter contracts and mypy (the scope in pyproject.toml) only
	.venv/bin/ruff check .
	.venv/bin/lint-imports
	.venv/bin/mypy

bench: setup ## run the benchmarks (by hand; prints ratios)
	$(PY) bench/run_all.py

clean: ## remove the virtualenv, node_modules and the local database
	rm -rf .venv node_modules instance
