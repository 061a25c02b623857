"""What `genie-obs demo` prints: a short account a person reads, not Dagster's per-step events, and a failed run's
error in full.

The demo runs in its own process (as the command does) on small settings: two simulated workspaces whose
configured loopback ports are held by this test the whole time (as `make dev` holds 8781/8782), two days, few
questions, an embedded warehouse in a temporary folder. The script calls ``run_demo_command``, what the command
runs once its settings are loaded: free ports, the definitions, ``run_demo`` with a quiet console.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from genie_obs_dagster_tests.conftest import PRINCIPAL, WORKSPACES
from genie_obs_dagster_tests.processes import WatchedProcess

MAX_LINES = 40
DEMO = """
import json, sys
import dagster as dg
from genie_obs_dagster.demo import run_demo_command
from genie_obs_dagster.settings import parse_settings

settings = parse_settings(json.loads(sys.argv[1]), source="test settings")
sys.exit(run_demo_command(settings, None, dg.DagsterInstance.ephemeral()))
"""
# Dagster's console format: "<date> <time> +0000 - dagster - LEVEL - ..."
DAGSTER_LINE = re.compile(r" - dagster - (DEBUG|INFO) - ")


@pytest.fixture
def held_ports() -> Iterator[list[int]]:
    """Two loopback ports bound and listening for the whole test: the settings name them, the demo must not."""
    socks = []
    try:
        for _ in WORKSPACES:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen()
            socks.append(s)
        yield [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def small_settings(folder: Path, ports: list[int]) -> dict[str, object]:
    return {
        "workspaces": [{"id": w, "name": f"sandbox-{i + 1}", "url": f"http://127.0.0.1:{port}"}
                       for i, (w, port) in enumerate(zip(WORKSPACES, ports, strict=True))],
        "history": {"lookback_days": 2},
        "ingestion_principal": {"identity": PRINCIPAL},
        "credentials": {"client_id": {"env": "GENIE_OBS_CLIENT_ID"}, "client_secret": {"env": "GENIE_OBS_CLIENT_SECRET"}},
        "warehouse": {"backend": "duckdb", "duckdb": {"path": str(folder / "genie_obs.duckdb")}},
        "api": {"rate_per_s": 1000},
        "sandbox": {"seed": 5, "spaces_per_workspace": 2, "users": 6, "questions_per_day": 8, "requests_per_second": 0},
    }


def run_demo(settings: dict[str, object]) -> tuple[int, list[str]]:
    proc = WatchedProcess.python(DEMO, json.dumps(settings))
    code = proc.finish()
    return code, proc.lines


def line(lines: list[str], start: str) -> str:
    found = [x for x in lines if x.startswith(start)]
    assert len(found) == 1, f"expected one line starting with {start!r}:\n" + "\n".join(lines)
    return found[0]


def test_demo_prints_a_short_account_with_its_figures(tmp_path: Path, held_ports: list[int]) -> None:
    code, lines = run_demo(small_settings(tmp_path, held_ports))
    out = "\n".join(lines)
    assert code == 0, out
    assert len(lines) < MAX_LINES, f"{len(lines)} lines:\n{out}"
    assert not [x for x in lines if "DEBUG" in x or DAGSTER_LINE.search(x)], out
    assert "Warning" not in out, out  # no BetaWarning/PreviewWarning/... from building or running our definitions

    assert line(lines, "sandbox: ").startswith("sandbox: 2 simulated Databricks workspace(s), 4 Genie spaces, 6 users")
    urls = [re.search(r"http://127\.0\.0\.1:(\d+)$", line(lines, f"  sandbox-{i + 1} (workspace {w}): "))
            for i, w in enumerate(WORKSPACES)]
    served = [int(m.group(1)) for m in urls if m]
    assert len(served) == 2 and not set(served) & set(held_ports), (held_ports, out)  # free ports, not the held ones

    assert re.match(r"ingest: one genie_ingest run over 2 workspace\(s\), \S+\.\.\S+, in [\d.]+s", line(lines, "ingest: "))
    for i in range(len(WORKSPACES)):
        m = re.fullmatch(r"  sandbox-\d: (\d+) audit events, (\d+) messages listed, (\d+) fetched \((\d+) API requests, "
                         r"(\d+) throttled\), no fetch errors", lines[lines.index(line(lines, "ingest: ")) + 1 + i])
        assert m, out
        audit, listed, fetched, requests, _ = map(int, m.groups())
        assert audit > 0 and listed > 0 and fetched == listed and requests > 0, out  # a fresh warehouse
    assert re.match(r"  sandbox-1: 2 spaces \(2 configuration versions, no open space fetch errors\); \d+ messages "
                    r"listed through the API", line(lines, "  sandbox-1: 2 spaces"))
    assert line(lines, "three days later: ")
    assert line(lines, "marts: one genie_marts run rebuilt the marts and the dashboard")
    assert re.fullmatch(r"asset checks: \d+ evaluated over every run, all passed", line(lines, "asset checks: "))
    truth = line(lines, "against the scenario's ground truth: ")
    assert "0 unexpected, 0 with a wrong asker" in truth and truth.endswith(": OK"), truth
    assert line(lines, "warehouse: ") == f"warehouse: {tmp_path / 'genie_obs.duckdb'} (DuckDB, schema main__genie_analytics)"
    dashboard = tmp_path / "dashboard" / "index.html"
    assert line(lines, "dashboard: ").startswith(f"dashboard: {dashboard} ") and dashboard.is_file()
    assert line(lines, "next: ").startswith("next: `make dev`")


def test_a_failed_run_prints_its_error_in_full(tmp_path: Path, held_ports: list[int]) -> None:
    (tmp_path / "dashboard").write_text("a file where the dashboard's folder goes\n")  # the last step cannot write
    code, lines = run_demo(small_settings(tmp_path, held_ports))
    out = "\n".join(lines)
    assert code == 1, out
    assert not [x for x in lines if "DEBUG" in x or DAGSTER_LINE.search(x)], out
    assert line(lines, "  sandbox-1: 2 spaces")  # the account up to the failure
    # Dagster's own report of the failure (console logger at WARNING): the step, the exception, the stack trace.
    assert any(" - ERROR - " in x and "STEP_FAILURE" in x and "genie_dashboard_html" in x for x in lines), out
    assert "FileExistsError" in out and "Stack Trace:" in out and "dashboard/html.py" in out, out
    error = line(lines, "error: the genie_marts run ")
    assert "failed in step genie_dashboard_html: FileExistsError" in error, error
    assert not [x for x in lines if x.startswith(("demo finished", "next: "))], out
