# pipsystem: `make run` for the app with demo data, `make test` for the test suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# The translation catalogs: locale/<lang>/LC_MESSAGES/django.po (and djangojs.po for scripts).
LANGS := -l es -l fr -l pt_BR
MESSAGES_IGNORE := --ignore=.venv --ignore=var --ignore=staticfiles --ignore=bench \
	--ignore=tests --ignore=docs --ignore=static/vendor --ignore=test-artifacts

.PHONY: install run web worker test lint format check lock lock-upgrade clean messages \
	compilemessages check-messages

# Exactly the locked versions, each file checked against its locked hash; then the project
# itself. `make check` fails when the lock does not cover pyproject.toml (run `make lock`).
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# Web server, Celery worker and beat together, on the embedded defaults (SQLite and a
# file-system broker) unless DATABASE_URL / REDIS_URL say otherwise. DEBUG is off, so error
# pages look as they will in production (`make run DEBUG=true` for Django's debug pages);
# static files are served by whitenoise either way. Links in e-mails and PDFs point at the
# address served here (SITE_URL, from HOST and PORT unless given). The console shows one line
# per request and per e-mail (the full e-mails are in var/mail/).
DEBUG ?= false
SITE_URL ?= http://$(HOST):$(PORT)
RUN_ENV = DEBUG=$(DEBUG) SITE_URL=$(SITE_URL) \
	SECRET_KEY="$${SECRET_KEY:-make-run-local-only-not-for-deployment-0123456789abcdefghij}" \
	ALLOWED_HOSTS="$${ALLOWED_HOSTS:-$(HOST),localhost,127.0.0.1,[::1]}" \
	SECURE_SSL_REDIRECT=false SECURE_COOKIES=false SECURE_HSTS_SECONDS=0 \
	LOG_LEVEL_REQUESTS=ERROR LOG_LEVEL_TASKS=WARNING DJANGO_RUNSERVER_HIDE_WARNING=true

run: install compilemessages
	@export $(RUN_ENV); \
	$(PY) manage.py migrate --noinput -v0 && \
	$(PY) manage.py seed_demo && \
	$(PY) manage.py create_signing_cert --if-missing && \
	$(PY) manage.py collectstatic --noinput -v0
	@echo
	@echo "  pipsystem is running on $(SITE_URL)/"
	@echo "  Demo logins (password pipsystem-demo): supervisor, agent, hr, admin"
	@echo "  E-mails are written to var/mail/. Stop with Ctrl-C."
	@echo
	@export $(RUN_ENV); \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/celery -A pipsystem --quiet worker --beat --concurrency 1 --loglevel INFO \
		--schedule var/celerybeat-schedule & worker=$$!; \
	$(PY) manage.py runserver --skip-checks $(HOST):$(PORT)

# On every core (pytest-xdist); PYTEST_ARGS='-m "not slow"' leaves out the browser, worker and
# PDF tests for a quick run.
test: install compilemessages
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

# Collect the strings marked for translation into the catalogs (new ones come in untranslated).
messages: install
	$(PY) manage.py makemessages $(LANGS) --add-location file $(MESSAGES_IGNORE)
	$(PY) manage.py makemessages -d djangojs $(LANGS) --add-location file $(MESSAGES_IGNORE)

compilemessages: install
	@$(PY) manage.py compilemessages --ignore=.venv --verbosity 0

# Fails when a string marked in the code has no translation (or a fuzzy one) in a catalog.
check-messages: messages
	@bad=0; for po in locale/*/LC_MESSAGES/*.po; do \
		stats=$$(msgfmt --check --statistics -o /dev/null "$$po" 2>&1); \
		echo "$$po: $$stats"; \
		case "$$stats" in *untranslated*|*fuzzy*) bad=1;; esac; \
	done; \
	if [ $$bad = 1 ]; then echo "Translate the entries above (none untranslated, none fuzzy)."; exit 1; fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Migrations match the models, the lock covers pyproject.toml and is what is installed, and
# production settings pass Django's deployment checks.
check: install
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) .ci/check_lock.py
	DEBUG=false SECRET_KEY=check-only-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ \
		ALLOWED_HOSTS=pips.example.com $(PY) manage.py check --deploy --fail-level WARNING

# The lock: after a change to pyproject.toml, `make lock` pins what is new and keeps the rest;
# `make lock-upgrade` moves every pin to the newest release allowed (SECURITY.md, Dependencies).
LOCK := $(VENV)/bin/pip-compile --quiet --extra dev --generate-hashes --allow-unsafe \
	--strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

lock: install
	$(LOCK)

lock-upgrade: install
	$(LOCK) --upgrade

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
