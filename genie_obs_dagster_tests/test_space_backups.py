"""Backups of every configuration version, `genie-obs spaces restore`, and mart_space_config_changes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from genie_obs_dagster import cli
from genie_obs_dagster.assets.space_lifecycle import CHANGES_MART, LIFECYCLE_JOB
from genie_obs_dagster.genie.spaces import config_hash
from genie_obs_dagster.lifecycle.backup import VolumeStore, doc_hash
from genie_obs_dagster.lifecycle.space_diff import config_change_rows
from genie_obs_dagster.sandbox.model import Space

from .conftest import WORKSPACES, ApiEnv

WS = WORKSPACES[0]
HISTORY = ("SELECT workspace_id, space_id, config_hash, title, description, warehouse_id, serialized_space, update_time, "
           "first_seen_at, last_seen_at FROM main.genie_analytics.genie_space_config_history "
           "ORDER BY workspace_id, space_id, first_seen_at, config_hash")


def run_lifecycle(env: ApiEnv) -> dg.ExecuteInProcessResult:
    job = env.defs.resolve_job_def(LIFECYCLE_JOB)
    result = job.execute_in_process(instance=env.instance, partition_key=WS)
    assert result.success
    return result


def run_changes_mart(env: ApiEnv, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    """mart_space_config_changes alone, as the genie_marts job materializes it."""
    result = env.defs.resolve_job_def("genie_marts").execute_in_process(
        instance=env.instance, asset_selection=[dg.AssetKey(CHANGES_MART)], raise_on_error=raise_on_error)
    assert result.success or not raise_on_error
    return result


def files_written(result: dg.ExecuteInProcessResult) -> int:
    return next(e.event_specific_data.materialization.metadata for e in result.get_asset_materialization_events()
                if e.asset_key.to_user_string() == "genie_space_backups")["files_written"].value


def history(env: ApiEnv) -> list[dict]:
    cols = ("workspace_id", "space_id", "config_hash", "title", "description", "warehouse_id", "serialized_space",
            "update_time", "first_seen_at", "last_seen_at")
    return [dict(zip(cols, r, strict=True)) for r in env.rows(HISTORY)]


def make_changed_env(api_env_factory: Callable[..., ApiEnv], backend: str = "duckdb"
                     ) -> tuple[ApiEnv, Space, str, str, list[dg.ExecuteInProcessResult]]:
    """Two versions of one space of WS: the scenario's, then one with a new instruction and one table less. Also the
    two space refreshes (each writes the backups of what it fetched)."""
    env = api_env_factory(backend=backend)
    env.run_range(WS, env.scenario.start_date, env.last_day, "genie_ingest")
    refreshes = [env.refresh_spaces(WS)]
    details = dict(env.rows("SELECT space_id, config_hash FROM main.genie_analytics.genie_space_details "
                            "WHERE workspace_id = :w", {"w": WS}))
    space = next(s for s in env.scenario.spaces if s.space_id in details)
    cfg = space.serialized_space
    cfg["instructions"]["text_instructions"][0]["content"] = ["Always answer in EUR."]
    dropped = cfg["data_sources"]["tables"].pop()
    space.update_time = env.scenario.messages[len(env.scenario.messages) // 2].created_at  # mid-history
    refreshes.append(env.refresh_spaces(WS))
    return env, space, dropped["identifier"], details[space.space_id], refreshes


@pytest.fixture
def changed_env(api_env_factory: Callable[..., ApiEnv]) -> tuple[ApiEnv, Space, str, str]:
    return make_changed_env(api_env_factory)[:4]


def test_backups_write_one_file_per_version_and_a_restore_puts_it_back(changed_env, monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    env, space, _, first_hash = changed_env
    root = Path(env.settings.warehouse.duckdb.path).parent / "space_backups" / WS
    files = sorted(root.glob("*/*.json"))
    versions = [h for h in history(env) if h["workspace_id"] == WS]
    assert sorted(f"{h['space_id']}/{h['config_hash']}.json" for h in versions) == \
        sorted(f.relative_to(root).as_posix() for f in files)  # written by the two space refreshes
    for f in files:
        doc = json.loads(f.read_text())
        assert doc["config_hash"] == f.stem == doc_hash(doc)
    stamps = {f: f.stat().st_mtime_ns for f in files}
    assert files_written(run_lifecycle(env)) == 0  # written once: nothing new
    assert {f: f.stat().st_mtime_ns for f in files} == stamps and not list(root.rglob(".*"))

    monkeypatch.setattr(cli, "load_component_settings", lambda _defs: env.settings)
    capsys.readouterr()
    code = cli.main(["spaces", "restore", "--workspace", WS, "--space", space.space_id, "--version", first_hash[:12]])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert space.serialized_space["instructions"]["text_instructions"][0]["content"] != ["Always answer in EUR."]
    env.refresh_spaces(WS)  # the next refresh sees the restored version
    now = env.rows("SELECT config_hash FROM main.genie_analytics.genie_space_details WHERE workspace_id = :w "
                   "AND space_id = :s", {"w": WS, "s": space.space_id})
    assert now == [(first_hash,)] and "restored configuration" in out
    code = cli.main(["spaces", "restore", "--workspace", WS, "--space", space.space_id, "--version", "abcdef12"])
    _, err = capsys.readouterr()
    assert code == 2 and "error: --version abcdef12: no backup" in err
    code = cli.main(["spaces", "restore", "--workspace", WS, "--space", "../../etc", "--version", "abcdef12"])
    _, err = capsys.readouterr()
    assert code == 2 and "error: --space '../../etc' is not an id" in err  # never a path outside the backups


def test_the_config_changes_mart_holds_the_diffs_of_the_history(changed_env) -> None:
    env, space, dropped, _ = changed_env
    run_changes_mart(env)
    rows = env.rows("SELECT workspace_id, space_id, to_config_hash, from_config_hash, version_number, diff_summary, "
                    "diff_json, items_added, items_removed, items_changed, changed_at, questions_before, "
                    "questions_after, success_rate_before, success_rate_after, negative_feedback_before, "
                    "negative_feedback_after FROM main.genie_analytics.mart_space_config_changes")
    expected = config_change_rows(history(env), None)
    assert sorted(r[:10] for r in rows) == sorted(
        (e["workspace_id"], e["space_id"], e["to_config_hash"], e["from_config_hash"], e["version_number"],
         e["diff_summary"], e["diff_json"], e["items_added"], e["items_removed"], e["items_changed"]) for e in expected)
    (row,) = [r for r in rows if r[1] == space.space_id]
    assert row[5] == "tables +0 -1 ~0; text_instructions +0 -0 ~1"
    assert json.loads(row[6])["tables"]["removed"] == [dropped]

    # The windows, counted here from message_details: the 7 days before and after the change.
    changed_at = row[10].replace(tzinfo=dt.timezone.utc) if row[10].tzinfo is None else row[10]
    msgs = env.rows("SELECT created_at, status, feedback_rating FROM main.genie_analytics.message_details "
                    "WHERE workspace_id = :w AND space_id = :s", {"w": WS, "s": space.space_id})
    week = dt.timedelta(days=7)

    def at(ts: dt.datetime) -> dt.datetime:
        return ts.replace(tzinfo=dt.timezone.utc) if ts.tzinfo is None else ts

    before = [m for m in msgs if changed_at - week <= at(m[0]) < changed_at]
    after = [m for m in msgs if changed_at <= at(m[0]) < changed_at + week]
    assert before and after and (row[11], row[12]) == (len(before), len(after))

    def rate(ms: list[tuple]) -> float | None:
        done = [m for m in ms if m[1] in ("COMPLETED", "FAILED", "CANCELLED")]
        return sum(m[1] == "COMPLETED" for m in done) / len(done) if done else None

    assert (row[13], row[14]) == pytest.approx((rate(before), rate(after)))
    assert (row[15], row[16]) == (sum(m[2] == "NEGATIVE" for m in before), sum(m[2] == "NEGATIVE" for m in after))
    assert config_hash({}) != row[2]


def test_the_config_change_mart_checks_fail_when_its_sql_emits_a_row_twice(
        changed_env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A regression of sql/marts/mart_space_config_changes.sql that repeats a row breaks both of its checks."""
    from genie_obs_dagster.warehouse import sql as sqlmod

    from .test_asset_checks_fail import fan_out

    env = changed_env[0]
    clean = {e.check_name: e for e in run_changes_mart(env).get_asset_check_evaluations()
             if e.asset_key.to_user_string() == "mart_space_config_changes"}
    assert set(clean) == {"grain", "reconciles"} and all(e.passed for e in clean.values())

    fan_out("mart_space_config_changes")(env, monkeypatch, tmp_path)  # the mart's SQL emits one row twice
    try:
        result = run_changes_mart(env, raise_on_error=False)
        bad = {e.check_name: e for e in result.get_asset_check_evaluations()
               if e.asset_key.to_user_string() == "mart_space_config_changes"}
        assert bad["grain"].passed is False and bad["grain"].metadata["duplicate_keys"].value == 1
        assert bad["reconciles"].passed is False
    finally:
        sqlmod.parse_file.cache_clear()


# Set by the clock when a run writes (and the versions' first/last seen times): differ between any two envs.
RUN_TIME = {"computed_at", "first_seen_at", "last_seen_at"}


def table_rows(env: ApiEnv, table: str) -> list[tuple]:
    from genie_obs_dagster.warehouse import sql as sqlmod

    cols = [c for c in sqlmod.ddl_columns(table) if c not in RUN_TIME]
    return sorted(env.rows(f"SELECT {', '.join(cols)} FROM main.genie_analytics.{table}"), key=repr)  # noqa: S608


def test_backups_diffs_and_the_changes_mart_on_databricks(api_env_factory: Callable[..., ApiEnv],
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The same history on both back ends gives the same diffs and mart rows; on Databricks the backups are files in
    the target schema's volume (read back through the Files API), a rerun writes nothing and duplicates nothing, and
    `genie-obs spaces restore` restores from the volume."""
    from genie_obs_dagster.resources import open_warehouse

    duck = make_changed_env(api_env_factory)[0]
    env, space, _, first_hash, refreshes = make_changed_env(api_env_factory, "databricks")
    for e in (duck, env):
        run_changes_mart(e)
    for table in ("genie_space_config_diffs", CHANGES_MART):
        assert table_rows(env, table) == table_rows(duck, table), table
    assert len(table_rows(env, CHANGES_MART)) == 1

    # Backups: one file per version in /Volumes/main/genie_analytics/genie_obs_staging/space_backups/<ws>/<space>/.
    versions = [h for h in history(env) if h["workspace_id"] == WS]
    assert [files_written(r) for r in refreshes] == [len(versions) - 1, 1]
    volume = "/Volumes/main/genie_analytics/genie_obs_staging"
    local = env.sim.volumes.root / "main" / "genie_analytics" / "genie_obs_staging" / "space_backups" / WS
    assert sorted(p.relative_to(local).as_posix() for p in local.rglob("*.json")) == \
        sorted(f"{h['space_id']}/{h['config_hash']}.json" for h in versions)
    duck_root = Path(duck.settings.warehouse.duckdb.path).parent / "space_backups" / WS
    with open_warehouse(env.settings) as wh:
        files = wh.client.files  # type: ignore[attr-defined]
        for h in versions:
            name = f"{h['space_id']}/{h['config_hash']}.json"
            doc = json.loads(files.download(f"{volume}/space_backups/{WS}/{name}").contents.read())
            assert doc["config_hash"] == h["config_hash"] == doc_hash(doc)
            same = json.loads((duck_root / name).read_text())  # the embedded default's file of the same version
            assert {k: v for k, v in doc.items() if k not in RUN_TIME} == \
                {k: v for k, v in same.items() if k not in RUN_TIME}
        # Two runs racing on one version: the second upload is refused (409) and ignored; the file stays as written.
        name = f"{WS}/{versions[0]['space_id']}/{versions[0]['config_hash']}.json"
        kept = (local.parent / name).read_bytes()
        VolumeStore(files, f"{volume}/space_backups").write(name, b"written by another run")
        assert (local.parent / name).read_bytes() == kept
    stamps = {p: p.stat().st_mtime_ns for p in local.rglob("*.json")}

    # Reruns: no backup written again, no diff or mart row added, nothing left in staging.
    uploads = env.sim.stats(WS).by_kind.get("files_upload", 0)
    assert uploads >= len(versions)
    before = {t: table_rows(env, t) for t in ("genie_space_config_diffs", CHANGES_MART)}
    n = len(env.sim.sql_statements())
    assert files_written(run_lifecycle(env)) == 0
    run_changes_mart(env)
    assert env.sim.stats(WS).by_kind.get("files_upload", 0) == uploads
    assert {p: p.stat().st_mtime_ns for p in local.rglob("*.json")} == stamps
    assert {t: table_rows(env, t) for t in before} == before
    texts = [s.statement for s in env.sim.sql_statements()[n:]]
    assert texts and not any(WS in t or space.space_id in t for t in texts)  # values are bound parameters
    assert not list(env.sim.volumes.root.rglob("*.parquet"))

    # The CLI: `spaces backup` finds nothing new in the volume; `spaces restore` restores a version read from it.
    monkeypatch.setattr(cli, "load_component_settings", lambda _defs: env.settings)
    capsys.readouterr()
    assert cli.main(["spaces", "backup", "--workspace", WS]) == 0
    out, _ = capsys.readouterr()
    assert f"0 new backup file(s) in {volume}/space_backups" in out
    code = cli.main(["spaces", "restore", "--workspace", WS, "--space", space.space_id, "--version", first_hash[:12]])
    out, err = capsys.readouterr()
    assert code == 0 and "restored configuration" in out, err
    env.refresh_spaces(WS)
    assert env.rows("SELECT config_hash FROM main.genie_analytics.genie_space_details WHERE workspace_id = :w "
                    "AND space_id = :s", {"w": WS, "s": space.space_id}) == [(first_hash,)]

    # A volume dropped since (or never made in a schema someone else created): made again, every backup rewritten.
    env.sim.volumes.drop_all()
    assert cli.main(["spaces", "backup", "--workspace", WS]) == 0
    out, _ = capsys.readouterr()
    assert f"{len(versions)} new backup file(s)" in out and len(list(local.rglob("*.json"))) == len(versions)
