# Two commands do everything on a fresh machine: `make demo` (the whole graph on the embedded default)
# and `make test` (lint, definitions validation, tests). Both create the virtualenv they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export DAGSTER_HOME := $(CURDIR)/.dagster_home
export GENIE_OBS_CONFIG ?= $(CURDIR)/genie_obs.yaml

.PHONY: install demo test dev sandbox bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@mkdir -p $(DAGSTER_HOME)
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/genie-obs demo

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	$(BIN)/dagster definitions validate -w workspace.yaml
	$(BIN)/dg check defs
	$(BIN)/pytest

# The Dagster UI on the sandbox: simulated workspaces in the background (credentials in .env, which
# dagster dev loads), then the webserver and daemon. Ctrl-C stops both.
dev: $(STAMP)
	@rm -f .env
	@$(BIN)/genie-obs sandbox --write-env .env & pid=$$!; \
	trap 'kill $$pid 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq 1 120); do [ -f .env ] && break; sleep 0.5; done; \
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

sandbox: $(STAMP)
	$(BIN)/genie-obs sandbox

bench: $(STAMP)
	$(BIN)/python bench/bench_audit_layer.py

clean:
	rm -rf data .dagster_home
