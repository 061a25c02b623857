"""Throughput of the simulated Databricks server: GET message requests per second.

Starts the simulator with no latency and no rate limit, takes one OAuth token, then lets N client
threads (one ``requests.Session`` each, keep-alive) GET scenario messages until the time or request budget
is spent. By default client and server share one Python process (and its GIL), as in the test suite;
``--out-of-process`` runs the server through its command line instead, which measures the server alone.

    python bench/bench_sim_server.py --threads 1 4 8 16 --seconds 5 --max-requests 20000 [--out-of-process]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from genie_obs_dagster.sandbox.model import Scenario
from genie_obs_dagster.sandbox.scenario import ScenarioParams, generate
from genie_obs_dagster.sandbox.server import DEFAULT_SECRET, SimConfig, SimulatedDatabricks, WorkspaceFaults

DAYS, QUESTIONS, SEED = 7, 30, 7
START = dt.date(2026, 1, 1)


@contextmanager
def in_process(scenario: Scenario) -> Iterator[str]:
    config = SimConfig(audit_delay_s=0, faults=WorkspaceFaults(requests_per_second=None, questions_per_window=None))
    with SimulatedDatabricks(scenario, config) as sim:
        yield sim.urls[scenario.workspaces[0].workspace_id]


@contextmanager
def out_of_process() -> Iterator[str]:
    """The same scenario served by ``python -m genie_obs_dagster.sandbox.server`` (deterministic ids)."""
    cmd = [sys.executable, "-m", "genie_obs_dagster.sandbox.server", "--port", "0", "--rps", "0",
           "--questions-per-minute", "0", "--audit-delay", "0", "--seed", str(SEED), "--days", str(DAYS),
           "--questions-per-day", str(QUESTIONS), "--start-date", START.isoformat()]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = ""
        while "workspace " not in line:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("the server exited before printing its URLs")
        yield line.split(": ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run(url: str, scenario: Scenario, threads: int, seconds: float, max_requests: int) -> tuple[int, int, float]:
    """(ok, failed, elapsed seconds) for ``threads`` concurrent clients."""
    workspace_id = scenario.workspaces[0].workspace_id
    token = requests.post(f"{url}/oidc/v1/token", auth=(scenario.ingestion_principal, DEFAULT_SECRET),
                          data={"grant_type": "client_credentials", "scope": "all-apis"}, timeout=10).json()["access_token"]
    paths = [f"{url}/api/2.0/genie/spaces/{m.space_id}/conversations/{m.conversation_id}/messages/{m.message_id}"
             for m in scenario.messages if m.workspace_id == workspace_id]
    budget = itertools.count()  # shared request budget (next() is atomic under the GIL)
    deadline = time.monotonic() + seconds
    ok, failed, lock = [0], [0], threading.Lock()

    def client(offset: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        mine_ok = mine_failed = 0
        for i in itertools.count(offset):
            if next(budget) >= max_requests or time.monotonic() >= deadline:
                break
            resp = session.get(paths[i % len(paths)], timeout=10)
            if resp.status_code == 200:
                mine_ok += 1
            else:
                mine_failed += 1
        with lock:
            ok[0] += mine_ok
            failed[0] += mine_failed

    workers = [threading.Thread(target=client, args=(k * 7,)) for k in range(threads)]
    started = time.monotonic()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return ok[0], failed[0], time.monotonic() - started


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 4, 8, 16])
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--max-requests", type=int, default=20_000)
    p.add_argument("--out-of-process", action="store_true", help="serve from a separate process (no shared GIL)")
    args = p.parse_args()

    scenario = generate(ScenarioParams(seed=SEED, start_date=START, days=DAYS, questions_per_day=QUESTIONS))
    wid = scenario.workspaces[0].workspace_id
    server = out_of_process() if args.out_of_process else in_process(scenario)
    with server as url:
        where = "separate process" if args.out_of_process else "same process as the clients"
        print(f"GET message ({where}), {sum(m.workspace_id == wid for m in scenario.messages)} distinct messages, "
              f"budget {args.seconds:g} s or {args.max_requests} requests per run")
        for n in args.threads:
            ok, failed, elapsed = run(url, scenario, n, args.seconds, args.max_requests)
            print(f"  {n:3d} client threads: {ok / elapsed:8.0f} requests/s  ({ok} ok, {failed} failed, {elapsed:.2f} s)")


if __name__ == "__main__":
    main()
