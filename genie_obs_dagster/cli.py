"""Command line: ``genie-obs demo`` runs the whole graph on the embedded default."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import dagster as dg

from .settings import SettingsError, load_settings


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set (the Makefile sets it) runs are kept, so `make dev` shows the demo's history.
    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="genie-obs", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate the sandbox and materialize every asset on the embedded default")
    demo.add_argument("--config", help="settings file (default: $GENIE_OBS_CONFIG or genie_obs.yaml)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "demo":
        from .code_location import build_definitions
        from .demo import run_demo

        run_demo(settings, build_definitions(settings), _instance())
    return 0


if __name__ == "__main__":
    sys.exit(main())
