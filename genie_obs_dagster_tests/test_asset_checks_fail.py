"""Every asset check of the code location fails on realistic bad data, and passes on the same data when clean.

Each case of the table below names a check, the corruption put in place, how the check is then evaluated, and the
figure of the check's metadata that must point at the problem. Checks run in the same step as the materialization
(``check_results``), so a corruption must survive or precede that step: a bad source row, a row in a table the step
reads but does not rewrite, or a bad answer of the API.

Some checks hold by construction on any data (their SQL groups by the grain, or the step itself accounts for what it
fetched); they guard the code and its SQL, not the data. Those cases corrupt the one thing that can make them fail: a
SQL file (a copy of ``sql/`` with one file changed), which is what a regression in that file would look like. The
report of this change lists them.

Audit-layer cases run on an embedded warehouse alone (``env_factory``). API and mart cases copy the warehouse file of
one clean module-wide build (two workspaces ingested against the simulated workspace, spaces refreshed, marts built,
every check passed) and run against the same simulated workspace.
"""

# ruff: noqa: S608 (SQL built from the fixed schema name T; every value is a named parameter)

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from genie_obs_dagster.code_location import build_definitions
from genie_obs_dagster.demo import range_tags
from genie_obs_dagster.sandbox.server import SimConfig, SimulatedDatabricks, WorkspaceFaults
from genie_obs_dagster.warehouse import TableNames
from genie_obs_dagster.warehouse import sql as sqlmod
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

from .conftest import PRINCIPAL, WORKSPACES, ApiEnv, Env, make_scenario, make_settings

WS = WORKSPACES[0]
T = "main.genie_analytics"


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {f"{e.asset_key.to_user_string()}/{e.check_name}": e for e in result.get_asset_check_evaluations()}


def figures(e: dg.AssetCheckEvaluation) -> dict[str, Any]:
    return {k: v.value for k, v in e.metadata.items()}


def test_every_check_of_the_code_location_has_a_case_here(tmp_path: Path) -> None:
    keys = build_definitions(make_settings(tmp_path / "wh.duckdb")).resolve_asset_graph().asset_check_keys
    defined = {f"{k.asset_key.to_user_string()}/{k.name}" for k in keys}
    assert defined == {c.check for c in AUDIT_CASES} | {c.check for c in BUILT_CASES} | set(CASES_ELSEWHERE)
    assert len(defined) == 32


# Checks whose failing case lives with the feature's own tests (they need its job and data), and the test.
CASES_ELSEWHERE = {
    "generated_conversations/generated_messages_found":
        "test_generated_conversations.py::test_check_names_a_message_whose_audit_rows_have_not_arrived",
    "mart_space_config_changes/grain":
        "test_space_backups.py::test_the_config_change_mart_checks_fail_when_its_sql_emits_a_row_twice",
    "mart_space_config_changes/reconciles":
        "test_space_backups.py::test_the_config_change_mart_checks_fail_when_its_sql_emits_a_row_twice",
}


def test_the_cases_kept_elsewhere_exist() -> None:
    for where in CASES_ELSEWHERE.values():
        file, name = where.split("::")
        assert f"def {name}(" in (Path(__file__).parent / file).read_text(), where


# -- the audit layer: SQL on the embedded warehouse only ------------------------------------------------------


def _first_person_event_of_a_message_first_seen_on(env: Env, day: dt.date) -> str:
    msg = next(m for m in env.scenario.expected_messages_to_fetch([WS]).values() if m.first_seen_date == day)
    return env.rows(
        "SELECT event_id FROM system.access.audit WHERE service_name = 'aibiGenie' AND workspace_id = :w "
        "AND request_params['message_id'] = :m AND response.status_code = 200 AND user_identity.email <> :p "
        "ORDER BY event_time, event_id LIMIT 1", {"w": WS, "m": msg.message_id, "p": PRINCIPAL})[0][0]


def _a_message_untouched_on_the_last_day(env: Env) -> str:
    return env.rows(f"SELECT message_id FROM {T}.genie_messages_to_fetch WHERE workspace_id = :w "
                    "AND to_date(last_event_time) < :d ORDER BY message_id LIMIT 1", {"w": WS, "d": env.last_day})[0][0]


def source_workspace_listed_twice(env: Env) -> None:
    """system.access.workspaces_latest holds the workspace twice: bronze's join doubles every event."""
    env.wh.sql("INSERT INTO system.access.workspaces_latest SELECT * FROM system.access.workspaces_latest "
               "WHERE workspace_id = :w", {"w": WS})


def source_row_without_action_name(env: Env) -> None:
    env.wh.sql("UPDATE system.access.audit SET action_name = NULL WHERE event_id = "
               "(SELECT MIN(event_id) FROM system.access.audit WHERE service_name = 'aibiGenie' AND workspace_id = :w)",
               {"w": WS})


def source_event_delivered_twice(env: Env) -> None:
    env.wh.sql("INSERT INTO system.access.audit SELECT * FROM system.access.audit WHERE event_id = "
               "(SELECT MIN(event_id) FROM system.access.audit WHERE service_name = 'aibiGenie' AND workspace_id = :w)",
               {"w": WS})


def source_event_date_a_day_before_its_time(env: Env) -> None:
    """The first person event of a message asked on day 2 is filed under day 1 (event_date disagrees with
    event_time): the check's owner (earliest event_date) and silver's (day of the earliest event_time) differ."""
    event = _first_person_event_of_a_message_first_seen_on(env, env.scenario.start_date + dt.timedelta(days=1))
    env.wh.sql("UPDATE system.access.audit SET event_date = :d WHERE event_id = :e",
               {"d": env.scenario.start_date, "e": event})


def silver_row_duplicated(env: Env) -> None:
    env.wh.sql(f"INSERT INTO {T}.genie_messages_to_fetch SELECT * FROM {T}.genie_messages_to_fetch "
               "WHERE workspace_id = :w AND message_id = :m", {"w": WS, "m": _a_message_untouched_on_the_last_day(env)})


@dataclass(frozen=True)
class AuditCase:
    check: str
    corrupt: Callable[[Env], None]
    last_day_only: bool  # run the last day only (the corrupted row is of an earlier day, so the run keeps it)
    figure: str
    bad: Callable[[dict[str, Any]], bool]

    def __str__(self) -> str:
        return self.check


AUDIT_CASES = (
    AuditCase("genie_audit_events/matches_source", source_workspace_listed_twice, False, "bronze_rows",
              lambda f: f["bronze_rows"] == 2 * f["source_rows"] > 0),
    AuditCase("genie_audit_events/event_id_unique", source_event_delivered_twice, False, "duplicate_event_ids",
              lambda f: f["duplicate_event_ids"] == 1),
    AuditCase("genie_messages_to_fetch/key_unique", silver_row_duplicated, True, "duplicate_keys",
              lambda f: f["duplicate_keys"] == 1),
    AuditCase("genie_messages_to_fetch/rows_belong_to_partition", source_event_date_a_day_before_its_time, False,
              "misowned_rows", lambda f: f["misowned_rows"] == 1 and f["missing_rows"] == 0),
)


@pytest.mark.parametrize("case", AUDIT_CASES, ids=str)
def test_audit_layer_check_fails_on_bad_data(env_factory: Callable[..., Env], case: AuditCase) -> None:
    env = env_factory()
    env.run_range(WS, env.scenario.start_date, env.last_day)
    start = env.last_day if case.last_day_only else env.scenario.start_date
    clean = evaluations(env.run_range(WS, start, env.last_day))[case.check]
    assert clean.passed and not case.bad(figures(clean)), figures(clean)

    case.corrupt(env)
    bad = evaluations(env.run_range(WS, start, env.last_day))[case.check]
    assert bad.passed is False, figures(bad)
    assert case.bad(figures(bad)), (case.figure, figures(bad))
    assert bad.description, "the evaluation says what it counted"


def test_a_null_key_in_the_source_fails_the_write_naming_the_column(env_factory: Callable[..., Env]) -> None:
    """Keys are NOT NULL in the tables' DDL (enforced by DuckDB and Delta): that constraint is the check. A null key
    fails the bronze write, naming the column, and nothing of the partition is replaced."""
    env = env_factory()
    env.run_range(WS, env.scenario.start_date, env.last_day)
    before = env.rows(f"SELECT COUNT(*) FROM {T}.genie_audit_events WHERE workspace_id = :w", {"w": WS})
    source_row_without_action_name(env)
    job = env.defs.resolve_job_def("genie_audit_layer")
    result = job.execute_in_process(instance=env.instance, raise_on_error=False,
                                    tags=range_tags(WS, env.scenario.start_date, env.last_day))
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "action_name" in str(failure.step_failure_data.error)
    assert env.rows(f"SELECT COUNT(*) FROM {T}.genie_audit_events WHERE workspace_id = :w", {"w": WS}) == before


# -- API assets and marts: on a copy of one clean build -------------------------------------------------------


@dataclass
class Built:
    sim: SimulatedDatabricks
    folder: Path
    clean: dict[str, dg.AssetCheckEvaluation]  # every check of the clean build


class CopyEnv(ApiEnv):
    """An ApiEnv on a copy of the clean build's warehouse file (system tables included: nothing is loaded)."""

    def _load(self) -> None:
        self.wh = DuckDBWarehouse(self.settings.warehouse.duckdb.path, TableNames.from_settings(self.settings))

    def run_job(self, job: str, partition_key: str | None = None, *assets: str) -> dg.ExecuteInProcessResult:
        selection = [dg.AssetKey(a) for a in assets] or None
        result = self.defs.resolve_job_def(job).execute_in_process(
            instance=self.instance, partition_key=partition_key, asset_selection=selection)
        assert result.success
        return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    scenario = make_scenario()
    sim = SimulatedDatabricks(scenario, SimConfig(faults=WorkspaceFaults(requests_per_second=None)))
    sim.start()
    mp = pytest.MonkeyPatch()
    try:
        folder = tmp_path_factory.mktemp("clean_build")
        env = ApiEnv(folder, scenario, sim, mp)
        clean: dict[str, dg.AssetCheckEvaluation] = {}
        for r in env.ingest_all():
            clean.update({k: e for k, e in evaluations(r).items() if k.startswith("message")})
        for ws in WORKSPACES:
            clean.update(evaluations(env.refresh_spaces(ws)))
        clean.update(evaluations(env.run_marts()))
        yield Built(sim, folder, clean)
    finally:
        sim.stop()
        mp.undo()


@pytest.fixture
def copy_env(built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CopyEnv:
    for f in built.folder.glob("wh.duckdb*"):
        shutil.copy(f, tmp_path / f.name)
    return CopyEnv(tmp_path, built.sim.scenario, built.sim, monkeypatch)


def test_the_clean_build_passes_every_check(built: Built) -> None:
    # the audit layer's run per case, above; the marts job also evaluates the configuration-changes mart's checks, whose
    # failing case needs configuration changes (test_space_backups.py)
    elsewhere = {c for c in CASES_ELSEWHERE if c.startswith("mart_space_config_changes/")}
    assert set(built.clean) == {c.check for c in BUILT_CASES} | elsewhere
    assert all(e.passed for e in built.clean.values()), {k: figures(e) for k, e in built.clean.items() if not e.passed}


def changed_sql(monkeypatch: pytest.MonkeyPatch, tmp: Path, name: str, change: Callable[[str], str]) -> None:
    """Run on a copy of sql/ whose file ``name`` is changed (what a regression in that file would do)."""
    copy = tmp / "sql"
    shutil.copytree(sqlmod.SQL_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / f"{name}.sql"
    before = path.read_text()
    after = change(before)
    assert after != before, f"sql/{name}.sql no longer has what this test changes"
    path.write_text(after)
    monkeypatch.setattr(sqlmod, "SQL_DIR", copy)
    sqlmod.parse_file.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_sql_cache() -> Iterator[None]:
    yield
    sqlmod.parse_file.cache_clear()


def fan_out(mart: str) -> Callable[[CopyEnv, pytest.MonkeyPatch, Path], None]:
    """The mart's SQL emits one of its rows twice (a join that fans out), all else unchanged."""

    def corrupt(env: CopyEnv, mp: pytest.MonkeyPatch, tmp: Path) -> None:
        def change(text: str) -> str:
            body = text.strip().rstrip(";")
            return f"SELECT * FROM (\n{body}\n) AS all_rows\nUNION ALL\n(SELECT * FROM (\n{body}\n) AS one_row LIMIT 1)\n"
        changed_sql(mp, tmp, f"marts/{mart}", change)

    corrupt.__doc__ = f"sql/marts/{mart}.sql emits one row twice"
    return corrupt


def duplicate_row(table: str, where: str = "TRUE") -> Callable[[CopyEnv, pytest.MonkeyPatch, Path], None]:
    def corrupt(env: CopyEnv, mp: pytest.MonkeyPatch, tmp: Path) -> None:
        one = env.rows(f"SELECT COUNT(*) FROM {T}.{table} WHERE workspace_id = :w AND {where}", {"w": WS})[0][0]
        assert one, f"no row of {table} where {where}"
        env.wh.sql(f"INSERT INTO {T}.{table} SELECT * FROM {T}.{table} WHERE workspace_id = :w AND {where} "
                   "ORDER BY ALL LIMIT 1", {"w": WS})

    corrupt.__doc__ = f"one row of {table} ({where}) stored twice"
    return corrupt


def fetch_error_stored_twice(env: CopyEnv, mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """A (resolved) fetch error of a message stored twice."""
    for _ in range(2):
        env.wh.sql(f"INSERT INTO {T}.message_fetch_errors (workspace_id, message_id, space_id, conversation_id, "
                   "first_seen_date, error_type, http_status, error_code, error_message, permanent, attempt_count, "
                   "first_attempt_at, last_attempt_at, resolved, resolved_at) "
                   "SELECT workspace_id, message_id, space_id, conversation_id, first_seen_date, 'SERVER_ERROR', 503, "
                   "'TEMPORARILY_UNAVAILABLE', 'try again', FALSE, 2, fetched_at, fetched_at, TRUE, fetched_at "
                   f"FROM {T}.message_details WHERE workspace_id = :w ORDER BY message_id LIMIT 1", {"w": WS})


def record_lost_and_merge_inserts_nothing(env: CopyEnv, mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """A message's record is gone (so it is fetched again) and the MERGE that stores fetched messages inserts
    nothing (a regression of sql/genie/merge_message_details.sql): the message has neither record nor error."""
    env.wh.sql(f"DELETE FROM {T}.message_details WHERE workspace_id = :w AND message_id = "
               f"(SELECT MIN(message_id) FROM {T}.genie_messages_to_fetch WHERE workspace_id = :w)", {"w": WS})
    changed_sql(mp, tmp, "genie/merge_message_details",
                 lambda text: text.replace("WHEN NOT MATCHED THEN INSERT *", "").rstrip() + "\n")


def details_lost_and_merge_inserts_nothing(env: CopyEnv, mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """A space's stored details are gone and the MERGE that stores fetched spaces inserts nothing (a regression of
    sql/genie/merge_space_details.sql): the space has neither details nor a fetch error. (An API answering with
    another space's body is no way in: the client classifies it MALFORMED_RESPONSE, an error row.)"""
    space = next(s for s in env.scenario.spaces if s.workspace_id == WS)
    env.wh.sql(f"DELETE FROM {T}.genie_space_details WHERE workspace_id = :w AND space_id = :s",
               {"w": WS, "s": space.space_id})
    changed_sql(mp, tmp, "genie/merge_space_details",
                 lambda text: text.replace("WHEN NOT MATCHED THEN INSERT *", "").rstrip() + "\n")


def audit_log_lost_later_days(env: CopyEnv, mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """The audit layer lacks every message after the first day (deliveries lost): the API listing finds them."""
    env.wh.sql(f"DELETE FROM {T}.genie_messages_to_fetch WHERE workspace_id = :w AND first_seen_date > :d",
               {"w": WS, "d": env.scenario.start_date})


def both(*corruptions: Callable[[CopyEnv, pytest.MonkeyPatch, Path], None]) -> Callable[[CopyEnv, pytest.MonkeyPatch, Path], None]:
    def corrupt(env: CopyEnv, mp: pytest.MonkeyPatch, tmp: Path) -> None:
        for c in corruptions:
            c(env, mp, tmp)

    corrupt.__doc__ = " and ".join(c.__doc__ or c.__name__ for c in corruptions)
    return corrupt


@dataclass(frozen=True)
class BuiltCase:
    check: str
    corrupt: Callable[[CopyEnv, pytest.MonkeyPatch, Path], None]
    run: tuple[str, bool, tuple[str, ...]]  # job, per workspace partition WS, assets (empty: the whole job)
    bad: Callable[[dict[str, Any]], bool]

    def __str__(self) -> str:
        return self.check


INGEST = ("genie_ingest", True, ())
SPACES = ("genie_space_refresh", True, ("genie_space_details",))
DISCOVERY = ("genie_space_refresh", True, ("genie_api_messages",))
MARTS = ("genie_marts", False, ())


def _mart(name: str) -> tuple[str, bool, tuple[str, ...]]:
    return ("genie_marts", False, (name,))


def _over(f: dict[str, Any]) -> bool:
    return f["total"] > f["expected_total"]


BUILT_CASES = (
    BuiltCase("message_details/key_unique", duplicate_row("message_details", "is_final"), INGEST,
              lambda f: f["duplicates"] == 1),
    BuiltCase("message_fetch_errors/key_unique", fetch_error_stored_twice, INGEST, lambda f: f["duplicates"] == 1),
    BuiltCase("message_details/every_listed_message_accounted_for", record_lost_and_merge_inserts_nothing, INGEST,
              lambda f: f["unaccounted"] == 1),
    BuiltCase("genie_space_details/every_space_accounted_for", details_lost_and_merge_inserts_nothing, SPACES,
              lambda f: f["unaccounted"] == 1),
    BuiltCase("genie_api_messages/audit_log_coverage", audit_log_lost_later_days, DISCOVERY,
              lambda f: f["coverage"] < 0.9 and f["api_only"] > 0),
    # marts whose grain can break with the data: a repeated base row fans out through a join
    BuiltCase("mart_messages/grain", duplicate_row("message_details"), MARTS, lambda f: f["duplicate_keys"] == 1),
    BuiltCase("mart_messages/reconciles", duplicate_row("message_details"), MARTS,
              lambda f: f["total"] == f["expected_total"] + 1),
    BuiltCase("mart_space_leaderboard/grain", duplicate_row("genie_space_details"), MARTS,
              lambda f: f["duplicate_keys"] == 1),
    BuiltCase("mart_space_config_items/grain", duplicate_row("genie_space_config_history"), MARTS,
              lambda f: f["duplicate_keys"] >= 1),
    BuiltCase("mart_space_config_versions/grain", duplicate_row("genie_space_config_history"), MARTS,
              lambda f: f["duplicate_keys"] == 1),
    BuiltCase("mart_space_config_versions/reconciles", duplicate_row("genie_space_details"), MARTS,
              lambda f: f["total"] == f["expected_total"] + 1),
    # reconciles: a message held twice upstream is counted twice by the mart, once by the check
    BuiltCase("mart_space_leaderboard/reconciles", duplicate_row("message_details"), MARTS, _over),
    BuiltCase("mart_daily_activity/reconciles", duplicate_row("message_details"), MARTS, _over),
    BuiltCase("mart_adoption_daily/reconciles", duplicate_row("message_details"), MARTS, _over),
    BuiltCase("mart_askers/reconciles", duplicate_row("message_details"), MARTS, _over),
    BuiltCase("mart_failures/reconciles", duplicate_row("message_details", "status = 'FAILED'"), MARTS, _over),
    BuiltCase("mart_sql_performance/reconciles", duplicate_row("message_details", "statement_id IS NOT NULL"), MARTS,
              _over),
    BuiltCase("mart_fetch_errors/reconciles", fetch_error_stored_twice, MARTS, _over),
    # grain held by construction (GROUP BY the grain, NOT NULL columns, one row per configured workspace):
    # only a regression of the mart's SQL can break it
    BuiltCase("mart_daily_activity/grain", fan_out("mart_daily_activity"), _mart("mart_daily_activity"),
              lambda f: f["duplicate_keys"] == 1),
    BuiltCase("mart_adoption_daily/grain", fan_out("mart_adoption_daily"), _mart("mart_adoption_daily"),
              lambda f: f["duplicate_keys"] == 1),
    BuiltCase("mart_askers/grain", fan_out("mart_askers"), _mart("mart_askers"), lambda f: f["duplicate_keys"] == 1),
    BuiltCase("mart_failures/grain", fan_out("mart_failures"), _mart("mart_failures"),
              lambda f: f["duplicate_keys"] == 1),
    BuiltCase("mart_sql_performance/grain", fan_out("mart_sql_performance"), _mart("mart_sql_performance"),
              lambda f: f["duplicate_keys"] == 1),
    BuiltCase("mart_fetch_errors/grain", both(fetch_error_stored_twice, fan_out("mart_fetch_errors")),
              _mart("mart_fetch_errors"),
              lambda f: f["duplicate_keys"] == 1),
    BuiltCase("mart_pipeline_health/grain", fan_out("mart_pipeline_health"), _mart("mart_pipeline_health"),
              lambda f: f["duplicate_keys"] >= 1),
)


@pytest.mark.parametrize("case", BUILT_CASES, ids=str)
def test_check_fails_on_bad_data(built: Built, copy_env: CopyEnv, case: BuiltCase, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    clean = built.clean[case.check]
    assert clean.passed and not case.bad(figures(clean)), figures(clean)

    case.corrupt(copy_env, monkeypatch, tmp_path)
    job, partitioned, assets = case.run
    if job == "genie_ingest":  # one run over the workspace's days
        result = copy_env.run_range(WS, copy_env.scenario.start_date, copy_env.last_day, job)
    else:
        result = copy_env.run_job(job, WS if partitioned else None, *assets)
    bad = evaluations(result)[case.check]
    assert bad.passed is False, figures(bad)
    assert case.bad(figures(bad)), figures(bad)
