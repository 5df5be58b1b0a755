# Triage Portal. `make run` for a local demo, `make test` for the suite. See README.md.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# Django 6 needs Python 3.12+: take the first one found (pyenv installs count).
PYTHON ?= $(shell for p in python3.13 python3.12 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3) $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3) python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
STAMP := $(VENV)/.installed
PORT ?= 8000
SEED_LANG ?= en  # ja: `SEED_LANG=ja make run` adds a team that works in Japanese

.PHONY: install run web worker beat migrate seed lint test bench check messages clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (Django 6)."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --no-input

seed: migrate
	$(BIN)/python manage.py seed_demo --lang $(SEED_LANG)
	$(BIN)/python manage.py seed_demo_data_fixes
	$(BIN)/python manage.py recompute_grouping --full
	$(BIN)/python manage.py compute_weekly_trends --backfill 3

# Web, worker and beat in one terminal; Ctrl-C stops all three.
run: export DEBUG ?= 1
run: seed
	@echo "Triage Portal on http://127.0.0.1:$(PORT)/ (log in as dev/dev, ops/ops or admin/admin)"
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2 & \
	$(BIN)/celery -A config beat --loglevel=INFO & \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT) & \
	wait

# The dependency rule (.importlinter) and the code style (ruff.toml) fail the build like a test does.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	@command -v wrk >/dev/null || (apt-get install -y -qq wrk >/dev/null 2>&1 || { echo "bench needs wrk: apt-get install wrk"; exit 1; })
	$(BIN)/python bench/run.py

# The deploy check, then the pinned requirements against OSV's advisories. Where OSV cannot be
# reached (no network, a closed firewall) the audit is skipped with a message instead of failing.
OSV_URL := https://api.osv.dev/v1/query
check: install
	DEBUG=0 SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=triage.example.com \
		$(BIN)/python manage.py check --deploy --fail-level WARNING
	@if $(BIN)/python -c "import requests; requests.head('$(OSV_URL)', timeout=5)" >/dev/null 2>&1; then \
		$(BIN)/pip-audit --requirement requirements.txt --no-deps --disable-pip --vulnerability-service osv \
			--timeout 15 --progress-spinner off; \
	else echo "pip-audit skipped: $(OSV_URL) unreachable"; fi

# After changing a translated text: re-extract the Japanese catalog, translate the new entries in
# locale/ja/LC_MESSAGES/django.po, then compile it (needs GNU gettext's msgfmt). The compiled .mo is
# committed, so make run and make test need neither step.
I18N_IGNORE := --ignore=.venv --ignore=var --ignore=tests --ignore=bench
messages: install
	DEBUG=1 $(BIN)/python manage.py makemessages -l ja --add-location=file --no-obsolete $(I18N_IGNORE)
	DEBUG=1 $(BIN)/python manage.py compilemessages -l ja --ignore=.venv

clean:
	rm -rf $(VENV) var .pytest_cache
