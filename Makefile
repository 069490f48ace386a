# The two commands of the README: `make demo` (main job) and `make test` (test suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Label Studio, for the tests that run a real server, lives in its own environment (about 1 GB,
# its own Django, pandas and numpy pins): alflow talks to it over HTTP only.
LS_VENV ?= .venv-labelstudio
LABEL_STUDIO_VERSION := 1.23.2
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 180
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo test lint install labelstudio clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e '.[all,dev]'
	touch $@

install: $(VENV)/.installed

$(LS_VENV)/.installed-$(LABEL_STUDIO_VERSION):
	rm -rf $(LS_VENV)
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install -qq --upgrade pip
	$(LS_VENV)/bin/python -m pip install -qq label-studio==$(LABEL_STUDIO_VERSION)
	touch $@

labelstudio: $(LS_VENV)/.installed-$(LABEL_STUDIO_VERSION)

demo: install
	PREFECT_HOME=$(CURDIR)/.alflow/prefect $(PY) -m flows.demo

# ALFLOW_REQUIRE_SERVERS=1: a test that needs Label Studio fails (not skips) if it is missing.
# Two pytest-xdist workers: most of the suite's time is commands and servers that use one core.
TEST_WORKERS ?= 2
test: install labelstudio
	ALFLOW_REQUIRE_SERVERS=1 $(PY) -m pytest -q -n $(TEST_WORKERS)

lint: install
	$(PY) -m ruff check al_core tasks flows tests benchmarks

clean:
	rm -rf $(VENV) $(LS_VENV) .alflow
