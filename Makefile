# kuaixiang — `make run` starts the demo, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
export DJANGO_SETTINGS_MODULE := kuaixiang.settings

.PHONY: setup run worker demo test test-sqlite test-postgres lint bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed ## install Python and front-end dependencies
	KX_DEMO=1 $(PY) manage.py collectstatic --noinput -v0

run: setup ## migrate, load demo data, start gunicorn and the Huey worker
	KX_DEMO=1 $(PY) manage.py migrate --noinput -v0
	KX_DEMO=1 PORT=$(PORT) $(PY) manage.py seed_demo --if-empty
	KX_DEMO=1 scripts/run.sh $(PORT)

worker: setup ## the Huey worker alone (scale out: run several); demo mode unless SECRET_KEY is set
	KX_DEMO=$(if $(SECRET_KEY),0,1) $(PY) manage.py run_huey

demo: setup ## rebuild the demo data from scratch
	KX_DEMO=1 $(PY) manage.py migrate --noinput -v0
	KX_DEMO=1 $(PY) manage.py seed_demo --reset

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: setup lint ## every test, on SQLite and on PostgreSQL (CI: PostgreSQL and Redis required)
	KX_TESTING=1 $(PY) manage.py makemigrations --check --dry-run -v0
	$(MAKE) --no-print-directory test-sqlite
	@if scripts/check-pg.sh "$(TEST_DATABASE_URL)"; then \
		$(MAKE) --no-print-directory test-postgres; \
	elif [ -n "$$CI$$KX_REQUIRE_SERVICES" ]; then \
		echo "PostgreSQL is required here (CI) but unreachable at $(TEST_DATABASE_URL)"; exit 1; \
	else \
		echo "SKIPPED: the PostgreSQL run (no server at $(TEST_DATABASE_URL); set TEST_DATABASE_URL)"; \
	fi

test-sqlite:
	KX_TESTING=1 TEST_REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

test-postgres:
	KX_TESTING=1 TEST_REDIS_URL=$(TEST_REDIS_URL) DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest $(PYTEST_ARGS)

bench: setup ## performance harness; prints a table
	$(PY) benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules staticfiles var
