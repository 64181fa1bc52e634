# Two entry points for people (see README): `make demo` and `make test`.
# Each bootstraps .venv from constraints.txt the first time, so a fresh machine needs only
# python3 (3.11+) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint venv clean browser postgres

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/cxchurn demo

# Browser tests drive Debian's Chromium (Playwright cannot download browsers here). Installed
# when missing and apt is usable; otherwise the browser tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)) \
	  || echo "note: chromium not installed; browser tests will skip"; }

# The database tests start a throwaway PostgreSQL server (Debian's postgresql); installed when
# missing and apt is usable; otherwise those tests skip and say why.
postgres:
	@{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } \
	  || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && (apt-get install -y -qq postgresql >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null)) \
	  || echo "note: postgresql not installed; database tests will skip"; }

test: $(STAMP) browser postgres
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --durations=15

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) output
