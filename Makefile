# Two commands do everything on a fresh machine: `make demo` (the whole graph on the embedded default)
# and `make test` (lint, definitions validation, tests). Both create the virtualenv they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export DAGSTER_HOME := $(CURDIR)/.dagster_home
export GENIE_OBS_CONFIG ?= $(CURDIR)/genie_obs.yaml

.PHONY: install demo demo-databricks test dev sandbox initial-load bench lint browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@mkdir -p $(DAGSTER_HOME)
	@touch $(STAMP)

install: $(STAMP)

# The Dagster instance's settings (run queue, pools, retries), from the repository.
$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster.yaml $@

demo: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/genie-obs demo

# The same demo with every asset going through the Databricks back end (the simulated workspace's SQL warehouse).
demo-databricks: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/genie-obs demo --backend databricks

lint: $(STAMP)
	$(BIN)/ruff check .

# Headless Chromium (Debian's package) for the dashboard's browser test; where it cannot be installed
# (not root, no apt-get) the test is skipped and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
	  || echo "chromium is not installed: the dashboard browser test will be skipped"

test: $(STAMP) lint browser $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster definitions validate -w workspace.yaml
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg check defs
	$(BIN)/pytest

# The Dagster UI on the sandbox: simulated workspaces in the background (credentials in .env, which
# dagster dev loads), then the webserver and daemon. Ctrl-C stops both.
dev: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	@rm -f .env
	@$(BIN)/genie-obs sandbox --write-env .env & pid=$$!; \
	trap 'kill $$pid 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq 1 120); do [ -f .env ] && break; sleep 0.5; done; \
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

sandbox: $(STAMP)
	$(BIN)/genie-obs sandbox

# With `make dev` running: one asset backfill of every partition (one run per workspace for its history).
initial-load: $(STAMP)
	$(BIN)/genie-obs initial-load --url http://127.0.0.1:3000

bench: $(STAMP)
	$(BIN)/python bench/bench_audit_layer.py

clean:
	rm -rf data .dagster_home
