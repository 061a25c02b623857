"""Socket-free pieces of the simulator: limiters, fault draws, pagination, result columns, the CLI."""

from __future__ import annotations

import datetime as dt
import queue
import signal
import subprocess
import sys
import threading

import pytest
import requests

from genie_obs_dagster.sandbox.scenario import ScenarioParams, generate
from genie_obs_dagster.sandbox.server import loopback_ports
from genie_obs_dagster.sandbox.server.faults import (
    Fault,
    Limiter,
    SlidingWindow,
    TokenBucket,
    WorkspaceFaults,
)
from genie_obs_dagster.sandbox.server.paging import paginate
from genie_obs_dagster.sandbox.server.protocol import ApiError
from genie_obs_dagster.sandbox.server.results import columns
from genie_obs_dagster.sandbox.server.wire import rfc3339

SAFETY_S = 180  # outer limit of a wait on a child process: a safety net, never what is tested


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_token_bucket_refills_at_its_rate() -> None:
    now = FakeMonotonic()
    bucket = TokenBucket(rate=2.0, capacity=2, now=now)
    assert [bucket.take() for _ in range(2)] == [0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)
    now.t += 0.5
    assert bucket.take() == 0.0


def test_sliding_window_admits_n_per_window() -> None:
    now = FakeMonotonic()
    window = SlidingWindow(limit=5, window_s=60.0, now=now)
    assert [window.admit() for _ in range(5)] == [0.0] * 5
    now.t += 10
    assert window.admit() == pytest.approx(50.0)
    now.t += 50
    assert window.admit() == 0.0


def test_limiter_targets_kinds_and_honours_limits() -> None:
    limiter = Limiter(WorkspaceFaults(faults=(Fault("503", kinds=frozenset({"get_message"}), limit=2),)))
    assert limiter.draw("get_space") is None
    assert [limiter.draw("get_message") is not None for _ in range(3)] == [True, True, False]


def test_limiter_retry_after_is_whole_seconds_at_least_one() -> None:
    limiter = Limiter(WorkspaceFaults(requests_per_second=0.5, burst=1, questions_per_window=1, question_window_s=2.5))
    assert limiter.admit_request() == 0 and limiter.admit_request() == 2
    assert limiter.admit_question() == 0 and limiter.admit_question() == 3


def test_keyset_pagination_survives_inserts_while_paging() -> None:
    items = [5, 3, 9, 1]
    page, token = paginate(items, lambda i: (-i,), 2, None)
    assert page == [9, 5] and token
    items.append(7)  # newer than the first page's last item: not repeated, and nothing skipped
    page, token = paginate(items, lambda i: (-i,), 2, token)
    assert page == [3, 1] and token is None
    with pytest.raises(ApiError) as bad:
        paginate(items, lambda i: (-i,), 2, "!!")
    assert bad.value.status == 400


def test_result_columns_are_read_off_the_select_list() -> None:
    sql = ("SELECT r.region_name, SUM(o.amount) AS total_sales, COUNT(*) AS orders, "
           "date_trunc('WEEK', order_date) AS week FROM sales.core.orders o")
    assert [(c["name"], c["type_name"]) for c in columns(sql)] == [
        ("region_name", "STRING"), ("total_sales", "DOUBLE"), ("orders", "LONG"), ("week", "TIMESTAMP")]
    assert [c["name"] for c in columns("SHOW TABLES")] == ["result"]


def test_rfc3339_uses_z_and_milliseconds() -> None:
    utc = dt.timezone.utc
    assert rfc3339(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=utc)) == "2026-01-02T03:04:05Z"
    assert rfc3339(dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=utc)) == "2026-01-02T03:04:05.123Z"


def test_loopback_ports_come_from_scenario_urls() -> None:
    scenario = generate(ScenarioParams(days=1, questions_per_day=1,
                                       workspace_urls=("http://127.0.0.1:8781", "https://x.cloud.databricks.com")))
    assert loopback_ports(scenario) == {scenario.workspaces[0].workspace_id: 8781}


def test_command_line_serves_until_interrupted() -> None:
    """Waits on events only (lines printed, the process exiting); the limits are a safety net for a hung child."""
    proc = subprocess.Popen([sys.executable, "-m", "genie_obs_dagster.sandbox.server", "--days", "1",
                             "--questions-per-day", "2", "--workspaces", "3", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or ()], daemon=True)
    reader.start()
    try:
        seen: list[str] = []
        while not seen or "Press Ctrl-C to stop." not in seen[-1]:  # the last line of the banner
            seen.append(lines.get(timeout=SAFETY_S))
        urls = [line.split(": ", 1)[1].strip() for line in seen if line.strip().startswith("workspace ")]
        assert len(urls) == 3
        assert "client_id=5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f client_secret=sandbox-secret" in "".join(seen)
        meta = requests.get(f"{urls[2]}/.well-known/databricks-config", timeout=SAFETY_S).json()
        assert meta["oidc_endpoint"] == f"{urls[2]}/oidc"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=SAFETY_S) == 0  # it stops on Ctrl-C, however long a busy machine takes
    finally:
        proc.kill()
        proc.wait(SAFETY_S)
