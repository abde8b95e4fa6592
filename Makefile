# KPP — the two commands of the quick start are `make up` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: up test install lint format bench migrate clean-data

up: $(STAMP)            ## the whole platform (embedded PostgreSQL + Valkey unless KPP_*_URL are set)
	$(PY) -m ops.cli up

test: $(STAMP)          ## the whole test suite against real PostgreSQL and Redis
	$(PY) -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)          ## lint and format check (CI runs it)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)        ## format the tree and apply safe lint fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)         ## every benchmark in bench/, one after the other, then a table vs targets
	@mkdir -p .kpp/bench; rm -f .kpp/bench/*.txt; \
	for b in bench/*_*.py; do m=$$(basename $$b .py); echo "== $$m"; \
	  $(PY) -m bench.$$m > .kpp/bench/$$m.txt 2>&1; rc=$$?; cat .kpp/bench/$$m.txt; \
	  [ $$rc = 0 ] || exit 1; done; \
	echo "== summary"; $(PY) -m bench.summary .kpp/bench

migrate: $(STAMP)
	$(PY) -m ops.cli migrate

clean-data:             ## forget the embedded databases' data (.kpp/)
	rm -rf .kpp
