# Two commands do everything on a fresh machine: `make demo` (the whole graph on the embedded default)
# and `make test` (lint, definitions validation, tests). Both create the virtualenv they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export DAGSTER_HOME := $(CURDIR)/.dagster_home

# The Dagster UI of `make dev`, which `make initial-load` talks to: `make dev PORT=3100`. Given on the command line,
# not read from the environment (some hosts export PORT for their own use).
HOST = 127.0.0.1
PORT = 3000
# The simulated workspaces' ports of `make dev` and `make sandbox`, one per workspace: `make dev SANDBOX_PORTS="9781
# 9782"`. Both processes get them as GENIE_OBS_SANDBOX_PORT_1 and _2, from which the project's component
# (genie_obs_dagster/defs/genie_obs/defs.yaml) makes the workspace URLs: the sandbox serves what the code location
# calls. (`make demo` needs none: it picks free ports for its own simulated workspaces.)
SANDBOX_PORTS = 8781 8782
dev sandbox: export GENIE_OBS_SANDBOX_PORT_1 = $(word 1,$(SANDBOX_PORTS))
dev sandbox: export GENIE_OBS_SANDBOX_PORT_2 = $(word 2,$(SANDBOX_PORTS))
check_sandbox_ports = $(if $(filter-out 2,$(words $(SANDBOX_PORTS))),$(error SANDBOX_PORTS takes two ports, one \
  per simulated workspace, e.g. SANDBOX_PORTS="9781 9782"; got "$(SANDBOX_PORTS)"))

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

# Headless Chromium (Debian's package) for the dashboard's browser tests, which drive it through Playwright (the
# `dev` extras; Playwright never downloads a browser of its own); where it cannot be installed (not root, no
# apt-get) those tests are skipped and say why. Screenshots: artifacts/screenshots/ (or $GENIE_OBS_SCREENSHOTS).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
	  || echo "chromium is not installed: the dashboard browser test will be skipped"

test: $(STAMP) lint browser $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster definitions validate -w workspace.yaml
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg check defs
	$(BIN)/pytest

# The Dagster UI on the sandbox: simulated workspaces in the background (their credentials and ports in .env,
# which `dg dev` loads for the project), then `dg dev` (webserver, daemon, this project's code location) with the
# venv's Python, at http://$(HOST):$(PORT). Ctrl-C stops both.
dev: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(check_sandbox_ports)
	@rm -f .env
	@$(BIN)/genie-obs sandbox --write-env .env & pid=$$!; \
	trap 'kill $$pid 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq 1 120); do [ -f .env ] && break; \
	  kill -0 $$pid 2>/dev/null || { echo "the sandbox did not start (see above)" >&2; exit 1; }; sleep 0.5; done; \
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg dev --host $(HOST) --port $(PORT)

sandbox: $(STAMP)
	$(check_sandbox_ports)
	$(BIN)/genie-obs sandbox

# With `make dev` running: one asset backfill of every partition (one run per workspace for its history).
initial-load: $(STAMP)
	$(BIN)/genie-obs initial-load --url http://$(HOST):$(PORT)

bench: $(STAMP)
	$(BIN)/python bench/bench_audit_layer.py

clean:
	rm -rf data .dagster_home
