"""A real run process killed with SIGKILL midway, then run again, leaves exactly the tables an uninterrupted
run leaves (issue 10, item 11).

The run executes the ``genie_ingest`` job in process, in its own OS process, on a SQLite Dagster instance in a
temporary ``DAGSTER_HOME`` (the ``deploy/dagster.yaml`` settings: pools exist there, unlike on the ephemeral
instance), against simulated workspaces served by this test process. Nothing here depends on timing: the kill
is triggered by an event (the run's second "N/M messages" progress line, printed after a batch was written),
and the simulated workspaces are frozen at that moment (every answer held back) so the run cannot finish its
work between the event and the kill. Waits have generous outer limits that are never what is tested.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import textwrap
from pathlib import Path

import dagster as dg
import duckdb

from genie_obs_dagster.code_location import build_definitions
from genie_obs_dagster.component import defs_yaml_for
from genie_obs_dagster.demo import materialize_range
from genie_obs_dagster.sandbox.server import SimConfig, SimulatedDatabricks, WorkspaceFaults
from genie_obs_dagster.sandbox.system_tables import load_system_tables
from genie_obs_dagster.settings import Settings
from genie_obs_dagster.warehouse import TableNames
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

from .conftest import WORKSPACES, make_scenario, make_settings
from .processes import REPO, WatchedProcess

NO_LIMIT = WorkspaceFaults(requests_per_second=None)
FROZEN = WorkspaceFaults(requests_per_second=None, latency_s=24 * 3600)  # answers held back until the sim stops
# Columns that record when our process did something (wall clock), not what the data is.
WALL_CLOCK_COLUMNS = frozenset({"first_fetched_at", "fetched_at", "first_attempt_at", "last_attempt_at", "resolved_at"})


CHILD = textwrap.dedent("""
    import datetime as dt, json, sys
    import dagster as dg
    from genie_obs_dagster.code_location import build_definitions
    from genie_obs_dagster.demo import materialize_range
    from genie_obs_dagster.component import load_component_settings

    settings_file, ranges = sys.argv[1], json.loads(sys.argv[2])
    defs = build_definitions(load_component_settings(settings_file))
    with dg.DagsterInstance.get() as instance:
        for ws, start, end in ranges:
            result = materialize_range(defs, "genie_ingest", ws, dt.date.fromisoformat(start),
                                       dt.date.fromisoformat(end), instance)
            print("RUN", ws, result.run_id, "success" if result.success else "failure", flush=True)
    print("ALL RUNS DONE", flush=True)
""")


def run_process(settings_file: Path, ranges: list[tuple[str, str, str]], env: dict[str, str]) -> WatchedProcess:
    """The ingest job over each workspace's range, in process, in its own OS process (and session: a kill takes
    its whole process group); its output lines are collected so the test can wait on them."""
    return WatchedProcess.python(CHILD, str(settings_file), json.dumps(ranges), env=env)


def progress_lines(lines: list[str], workspace_id: str) -> list[str]:
    """The fetch's "workspace W: n/N messages" lines, each printed after a batch was written."""
    pattern = re.compile(rf"workspace {workspace_id}: \d+/\d+ messages")
    return [line for line in lines if pattern.search(line)]


def write_settings(path: Path, settings: Settings) -> Path:
    path.write_text(defs_yaml_for(settings))
    return path


def table_contents(db_file: str, settings: Settings) -> dict[str, list[tuple]]:
    """Every table of the product's schema, every row, every column but the wall-clock ones, sorted."""
    names = TableNames.from_settings(settings)
    schema = TableNames.duckdb_schema(names.target_catalog, names.target_schema)
    out = {}
    with duckdb.connect(db_file, read_only=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", [schema]).fetchall()]
        for table in tables:
            cols = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position", [schema, table]).fetchall() if r[0] not in WALL_CLOCK_COLUMNS]
            select = ", ".join(f'"{c}"' for c in cols)
            out[table] = conn.execute(f'SELECT {select} FROM "{schema}"."{table}" ORDER BY ALL').fetchall()  # noqa: S608
    return out


def started_runs(home: Path) -> set[str]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return {r.run_id for r in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))}


def test_a_run_killed_midway_then_rerun_gives_the_tables_of_an_uninterrupted_run(tmp_path: Path) -> None:
    scenario = make_scenario()
    last = scenario.start_date + dt.timedelta(days=scenario.days - 1)
    ranges = [(ws, scenario.start_date.isoformat(), last.isoformat()) for ws in WORKSPACES]
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")

    with SimulatedDatabricks(scenario, SimConfig(faults=NO_LIMIT)) as sim:
        env = {"DAGSTER_HOME": str(home), "GENIE_OBS_CLIENT_ID": sim.client_id,
               "GENIE_OBS_CLIENT_SECRET": sim.client_secret}
        workspaces = [{"id": w, "url": sim.urls[w]} for w in WORKSPACES]

        def settings_for(name: str) -> Settings:
            settings = make_settings(tmp_path / f"{name}.duckdb", workspaces=workspaces,
                                     api={"rate_per_s": 1000, "batch_size": 5})
            load_system_tables(DuckDBWarehouse(settings.warehouse.duckdb.path, TableNames.from_settings(settings)),
                               scenario)
            return settings

        # The reference: the same scenario ingested without interruption, on its own warehouse file.
        clean = settings_for("clean")
        defs = build_definitions(clean)
        saved = {k: os.environ.get(k) for k in ("GENIE_OBS_CLIENT_ID", "GENIE_OBS_CLIENT_SECRET")}
        os.environ.update({k: env[k] for k in saved})
        try:
            for ws, start, end in ranges:
                assert materialize_range(defs, "genie_ingest", ws, dt.date.fromisoformat(start),
                                         dt.date.fromisoformat(end), dg.DagsterInstance.ephemeral()).success
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

        # The crash: kill -9 the run process once two batches of the first workspace are written.
        crashed = settings_for("crashed")
        settings_file = write_settings(tmp_path / "crashed.yaml", crashed)
        run = run_process(settings_file, ranges, env)
        try:
            run.wait_until(lambda lines: len(progress_lines(lines, WORKSPACES[0])) >= 2,
                           f"two progress lines of workspace {WORKSPACES[0]}'s fetch")
            for ws in WORKSPACES:  # freeze the workspaces: whatever the run asks now is never answered
                sim.set_faults(ws, FROZEN)
        finally:
            run.kill()
        assert not any(line.startswith("RUN ") for line in run.lines), run.tail()
        dead = started_runs(home)
        assert len(dead) == 1, f"the killed run should be left STARTED (no daemon marks it failed): {dead}"
        for ws in WORKSPACES:
            sim.set_faults(ws, NO_LIMIT)

        reference = table_contents(clean.warehouse.duckdb.path, clean)
        midway = table_contents(crashed.warehouse.duckdb.path, crashed)
        assert 10 <= len(midway["message_details"]) < len(reference["message_details"]), run.tail()

        # The rerun: another process, the same job over the same ranges.
        rerun = run_process(settings_file, ranges, env)
        assert rerun.finish() == 0, rerun.tail()  # finish kills it if it outlives the safety limit
        assert sum(line.startswith("RUN ") and line.endswith(" success") for line in rerun.lines) == 2, rerun.tail()
        # The killed run's pool slot was freed by the rerun itself (its process is gone), and the run marked failed.
        assert not started_runs(home) & dead, rerun.tail()

    got = table_contents(crashed.warehouse.duckdb.path, crashed)
    assert set(got) == set(reference) >= {"genie_audit_events", "genie_messages_to_fetch", "message_details",
                                          "message_fetch_errors"}
    for table in reference:
        assert got[table] == reference[table], table
    truth = scenario.expected_messages_to_fetch()
    assert len(reference["message_details"]) == len(truth) > 0
    assert reference["message_fetch_errors"] == []
