"""Command line: ``genie-obs demo`` runs the whole graph on the embedded default."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import dagster as dg

from .settings import Settings, SettingsError, load_settings


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
    sandbox = sub.add_parser("sandbox", help="serve the settings' simulated workspaces and keep delivering audit rows")
    sandbox.add_argument("--config", help="settings file (default: $GENIE_OBS_CONFIG or genie_obs.yaml)")
    sandbox.add_argument("--deliver-every", type=float, default=30.0, help="seconds between audit deliveries")
    sandbox.add_argument("--write-env", metavar="FILE", help="write the sandbox credentials to this .env file "
                         "(dagster dev loads .env from its working directory)")
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
    elif args.command == "sandbox":
        return serve_sandbox(settings, args.deliver_every, args.write_env)
    return 0


def serve_sandbox(settings: Settings, deliver_every: float, env_file: str | None = None) -> int:
    """Foreground process for `make dev`: simulated workspaces plus audit delivery into the embedded warehouse."""
    from .sandbox.runtime import start_sandbox
    from .sandbox.server.app import serve_until_stopped

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    box = start_sandbox(settings, export_credentials=False)
    box.deliver_every(deliver_every)
    for wid, url in box.sim.urls.items():
        print(f"simulated workspace {wid}: {url}")
    # Sandbox credentials, not a real secret: printed so that clients can be pointed at the sandbox.
    print(f"OAuth M2M client_id={box.sim.client_id} client_secret={box.sim.client_secret}")
    if env_file:
        creds = settings.credentials
        Path(env_file).write_text(f"{creds.client_id.env}={box.sim.client_id}\n{creds.client_secret.env}={box.sim.client_secret}\n")
        print(f"wrote the sandbox credentials to {env_file}")
    print(f"audit rows delivered to {settings.warehouse.duckdb.path}: {box.loaded_rows}; Ctrl-C to stop", flush=True)
    serve_until_stopped(box.stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
