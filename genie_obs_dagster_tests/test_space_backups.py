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
from genie_obs_dagster.lifecycle.backup import doc_hash
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
