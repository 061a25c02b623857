"""Fixed costs of a run (issue 11): one opening of the embedded warehouse file per step, SQL parsed and rendered
once per text, and what holding the file for a step means for other threads and other processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlglot

from genie_obs_dagster.warehouse import TableNames
from genie_obs_dagster.warehouse import sql as sqlmod
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

from .conftest import Env


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times ``DuckDBWarehouse._open`` opened a file, per file path."""
    counts: Counter[str] = Counter()
    orig = DuckDBWarehouse._open

    def counting(self: DuckDBWarehouse):  # type: ignore[no-untyped-def]
        counts[self.path] += 1
        return orig(self)

    monkeypatch.setattr(DuckDBWarehouse, "_open", counting)
    return counts


@pytest.fixture
def sqlglot_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Calls of the sqlglot parser and of the renderer (tree copy, table rewrite, SQL generation)."""
    counts: Counter[str] = Counter()
    parse, render = sqlglot.parse, sqlmod.render

    def counting_parse(*a, **kw):  # type: ignore[no-untyped-def]
        counts["parse"] += 1
        return parse(*a, **kw)

    def counting_render(*a, **kw):  # type: ignore[no-untyped-def]
        counts["render"] += 1
        return render(*a, **kw)

    monkeypatch.setattr(sqlglot, "parse", counting_parse)
    monkeypatch.setattr(sqlmod, "render", counting_render)
    return counts


@pytest.fixture
def sql_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of sql/ that a test may edit."""
    import shutil

    copy = tmp_path / "sql"
    shutil.copytree(sqlmod.SQL_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sqlmod, "SQL_DIR", copy)
    yield copy
    sqlmod.parse_file.cache_clear()


def test_a_marts_run_opens_the_warehouse_file_once_per_step(env_factory: Callable[..., Env], opens: Counter[str]) -> None:
    env = env_factory()
    env.run_all()
    job = env.defs.resolve_job_def("genie_marts")
    steps = len(job.graph.node_defs)
    opens.clear()
    result = job.execute_in_process(instance=env.instance)
    assert result.success
    assert opens[env.settings.warehouse.duckdb.path] == steps, "one open per step, whatever the step's statements"


def test_the_audit_layer_opens_the_file_once_per_step(env_factory: Callable[..., Env], opens: Counter[str]) -> None:
    env = env_factory()
    opens.clear()  # loading the system tables
    result = env.run_range(env.settings.workspace_ids[0], env.scenario.start_date, env.last_day)
    steps = len([e for e in result.all_events if e.event_type_value == "STEP_START"])
    assert opens[env.settings.warehouse.duckdb.path] == steps


def test_a_second_use_of_a_sql_file_neither_parses_nor_renders(tmp_path: Path, sqlglot_calls: Counter[str]) -> None:
    wh = DuckDBWarehouse(tmp_path / "wh.duckdb", TableNames())
    wh.ensure_schema()
    wh.query("checks/marts/mart_messages")
    wh.replace("mart_askers", "marts/mart_askers", {}, where={})
    sqlglot_calls.clear()
    wh.query("checks/marts/mart_messages")
    wh.replace("mart_askers", "marts/mart_askers", {}, where={})
    assert sqlglot_calls == Counter(), "statements rendered on first use are reused"
    other = DuckDBWarehouse(tmp_path / "wh.duckdb", TableNames())  # e.g. the sensor's, built on every tick
    other.query("checks/marts/mart_messages")
    assert sqlglot_calls == Counter()


def test_the_rendering_cache_tells_configured_names_apart(tmp_path: Path) -> None:
    default = DuckDBWarehouse(tmp_path / "a.duckdb", TableNames())
    renamed = DuckDBWarehouse(tmp_path / "b.duckdb", TableNames.build("ops", "genie", "system.access.audit",
                                                                       "system.access.workspaces_latest",
                                                                       "system.query.history"))
    a, b = default._statements("marts/mart_askers"), renamed._statements("marts/mart_askers")
    assert "main__genie_analytics." in a[0].sql and "ops__genie." in b[0].sql and "main__genie" not in b[0].sql


def test_an_edited_sql_file_is_read_again(tmp_path: Path, sql_copy: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "wh.duckdb", TableNames())
    wh.ensure_schema()
    path = sql_copy / "checks" / "marts" / "mart_askers.sql"
    assert wh.query("checks/marts/mart_askers").num_rows == 1
    path.write_text("SELECT 42 AS answer FROM main.genie_analytics.mart_askers UNION ALL SELECT 43 AS answer")
    assert wh.query("checks/marts/mart_askers").to_pylist() == [{"answer": 43}], "the edit, not the first text"
    assert sqlmod.body_of("checks/marts/mart_askers").startswith("SELECT 42")


def test_threads_write_through_the_held_connection(tmp_path: Path, opens: Counter[str]) -> None:
    """The message fetch writes from worker threads: inside a held block they get cursors of the one connection,
    one unit of work at a time, and every write lands."""
    wh = DuckDBWarehouse(tmp_path / "wh.duckdb", TableNames())
    wh.ensure_schema()
    opens.clear()
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for j in range(5):
                wh.sql("INSERT INTO main.genie_analytics.genie_space_fetch_errors (workspace_id, space_id, error_type, "
                       "permanent, attempt_count, first_attempt_at, last_attempt_at, resolved) "
                       "VALUES (:w, :s, 'x', FALSE, 1, current_timestamp(), current_timestamp(), FALSE)",
                       {"w": f"w{i}", "s": f"s{j}"})
                wh.query("checks/marts/mart_askers")
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    with wh.hold():
        threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert wh.sql("SELECT COUNT(*) FROM main.genie_analytics.genie_space_fetch_errors")[0][0] == 20
        assert wh.sql("SELECT current_setting('TimeZone')")[0][0] == "UTC", "cursors get the connection's settings"
    assert not errors
    assert opens[wh.path] == 1
    assert wh._held is None, "closed when the block ends"
    assert wh.sql("SELECT COUNT(*) FROM main.genie_analytics.genie_space_fetch_errors")[0][0] == 20
    assert opens[wh.path] == 2, "outside a block, a unit of work opens the file"


OTHER_PROCESS = """
import sys
from genie_obs_dagster.warehouse import TableNames
from genie_obs_dagster.warehouse.base import WarehouseBusy
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse
try:
    DuckDBWarehouse(sys.argv[1], TableNames(), lock_timeout_s=0.3).sql("SELECT 1")
    print("opened")
except WarehouseBusy:
    print("busy")
"""


def test_other_processes_see_the_file_busy_while_held_then_free(tmp_path: Path) -> None:
    """What the sensor sees while a step holds the file (it skips the tick), and right after."""
    wh = DuckDBWarehouse(tmp_path / "wh.duckdb", TableNames())
    wh.ensure_schema()

    def other() -> str:
        return subprocess.run([sys.executable, "-c", OTHER_PROCESS, wh.path], capture_output=True, text=True,
                              check=True, timeout=120).stdout.strip()

    with wh.hold():
        wh.sql("SELECT 1")
        assert other() == "busy"
    assert other() == "opened"
