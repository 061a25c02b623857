"""Run simulated Databricks workspaces until Ctrl-C.

    python -m genie_obs_dagster.sandbox.server --seed 7 --days 14 --workspaces 2 --port 8781

Workspace *i* listens on ``--port + i`` (``--port 0``: ephemeral ports). The scenario ends today (UTC)
unless ``--start-date`` is given, and its workspace URLs are the local ones, so
``system.access.workspaces_latest`` points at this server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

from ..scenario import ScenarioParams, generate
from .app import SimulatedDatabricks, serve_until_stopped
from .config import SimConfig
from .faults import WorkspaceFaults

DEFAULT_IDS = ScenarioParams().workspace_ids


def workspace_ids(n: int) -> tuple[str, ...]:
    """The generator's default ids first, then more of the same 16-digit shape."""
    return tuple(DEFAULT_IDS[k] if k < len(DEFAULT_IDS) else str(1234567890123456 + k * 1111111111111111) for k in range(n))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m genie_obs_dagster.sandbox.server", description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--days", type=int, default=14)
    p.add_argument("--start-date", type=dt.date.fromisoformat, default=None, help="first day (default: today - days)")
    p.add_argument("--workspaces", type=int, default=2)
    p.add_argument("--spaces-per-workspace", type=int, default=4)
    p.add_argument("--users", type=int, default=16)
    p.add_argument("--questions-per-day", type=int, default=30)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8781, help="port of the first workspace (0: ephemeral)")
    p.add_argument("--token-ttl", type=int, default=3600, help="access token lifetime, seconds")
    p.add_argument("--rps", type=float, default=20.0, help="request-rate limit per workspace (0: none)")
    p.add_argument("--questions-per-minute", type=int, default=5, help="Genie question limit per workspace (0: none)")
    p.add_argument("--answer-delay", type=float, default=10.0, help="seconds until an API question is answered")
    p.add_argument("--audit-delay", type=float, default=60.0, help="audit row delivery lag, seconds")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    args = p.parse_args(argv)
    if args.workspaces < 1:
        p.error("--workspaces must be at least 1")
    return args


def build(args: argparse.Namespace) -> SimulatedDatabricks:
    ids = workspace_ids(args.workspaces)
    ports = {wid: (args.port + i if args.port else 0) for i, wid in enumerate(ids)}
    start = args.start_date or (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=args.days))
    urls = tuple(f"http://{args.host}:{ports[w]}" for w in ids) if args.port else None
    scenario = generate(ScenarioParams(seed=args.seed, start_date=start, days=args.days, workspace_ids=ids,
                                       workspace_urls=urls, spaces_per_workspace=args.spaces_per_workspace,
                                       users=args.users, questions_per_day=args.questions_per_day))
    faults = WorkspaceFaults(latency_s=args.latency_ms / 1000, requests_per_second=args.rps or None,
                             questions_per_window=args.questions_per_minute or None)
    config = SimConfig(host=args.host, ports=ports, token_ttl_s=args.token_ttl, answer_delay_s=args.answer_delay,
                       audit_delay_s=args.audit_delay, faults=faults)
    return SimulatedDatabricks(scenario, config)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sim = build(args)
    urls = sim.start()
    s = sim.scenario

    def announce() -> None:  # inside the serving loop's guard: a Ctrl-C right after the banner stops cleanly
        print(f"Simulated Databricks: seed {s.seed}, {s.start_date} + {s.days} days, {len(s.spaces)} spaces, "
              f"{len(s.messages)} messages")
        for wid, url in urls.items():
            print(f"  workspace {wid}: {url}")
        # Sandbox credentials (not a real secret): printed so a client can be pointed at the sandbox.
        print(f"OAuth M2M: client_id={sim.client_id} client_secret={sim.client_secret}")
        print("Press Ctrl-C to stop.", flush=True)

    serve_until_stopped(sim.stop, announce)
    return 0


if __name__ == "__main__":
    sys.exit(main())
