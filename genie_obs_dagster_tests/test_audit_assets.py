"""The audit layer against the scenario's ground truth: exact message set and asker, idempotent reruns,
range runs equal to day-by-day runs, late audit rows, and asset checks that catch bad tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import dagster as dg
import pytest

from genie_obs_dagster.sandbox.system_tables import load_system_tables

from .conftest import PRINCIPAL, WORKSPACES, Env, make_scenario

SILVER = "SELECT * FROM main.genie_analytics.genie_messages_to_fetch ORDER BY workspace_id, message_id"
BRONZE = "SELECT * FROM main.genie_analytics.genie_audit_events ORDER BY event_id"


def silver_by_key(env: Env) -> dict[tuple[str, str], tuple]:
    rows = env.rows("SELECT workspace_id, message_id, space_id, conversation_id, asker_email, first_seen_date "
                    "FROM main.genie_analytics.genie_messages_to_fetch")
    return {(r[0], r[1]): r[2:] for r in rows}


def assert_matches_truth(env: Env) -> None:
    truth = env.scenario.expected_messages_to_fetch()
    got = silver_by_key(env)
    assert set(got) == set(truth), f"missing {len(set(truth) - set(got))}, unexpected {len(set(got) - set(truth))}"
    for key, t in truth.items():
        assert got[key] == (t.space_id, t.conversation_id, t.asker_email, t.first_seen_date), key


@pytest.mark.parametrize("principal_reads_all", [False, True])
def test_messages_to_fetch_equals_ground_truth(env_factory: Callable[..., Env], principal_reads_all: bool) -> None:
    env = env_factory(make_scenario(principal_reads_all=principal_reads_all, unpolled_api_fraction=0.3))
    env.run_all()
    assert_matches_truth(env)
    # Messages whose API client never polled are invisible to the audit log (the API cross-check finds them).
    # A message nobody read is invisible to the audit log; one read later by someone else keeps its real asker.
    unpolled = [m for m in env.scenario.messages if not m.polled]
    unseen = [m for m in unpolled if m.key not in env.scenario.person_touches]
    assert unseen and not any(m.key in silver_by_key(env) for m in unseen)
    assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.genie_messages_to_fetch "
                    "WHERE asker_email = :p", {"p": PRINCIPAL}) == [(0,)]
    if principal_reads_all:
        # The principal's reads are in bronze, flagged as such, and changed nothing above.
        principal_events = [e for e in env.scenario.audit_events if e["user_identity"]["email"] == PRINCIPAL]
        assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events "
                        "WHERE is_ingestion_principal") == [(len(principal_events),)]


def test_the_ingestion_principal_changes_no_asker_count_or_time(env_factory: Callable[..., Env]) -> None:
    """The same world with and without the principal reading every message gives the same silver table."""
    plain = env_factory(make_scenario())
    plain.run_all()
    read = env_factory(make_scenario(principal_reads_all=True))
    read.run_all()
    assert read.rows("SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events WHERE is_ingestion_principal")[0][0] > 0
    assert read.rows(SILVER) == plain.rows(SILVER)


def test_bronze_holds_exactly_the_observed_genie_events(env_factory: Callable[..., Env]) -> None:
    env = env_factory()
    env.run_all()
    expected = {e["event_id"] for e in env.scenario.audit_events
                if e["service_name"] == "aibiGenie" and e["workspace_id"] in WORKSPACES}
    got = {r[0] for r in env.rows("SELECT event_id FROM main.genie_analytics.genie_audit_events")}
    assert got == expected
    # ids are pulled out of request_params; asks never carry a message id
    assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events "
                    "WHERE action_kind = 'ask' AND message_id IS NOT NULL") == [(0,)]
    assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events "
                    "WHERE action_kind = 'read' AND (message_id IS NULL OR space_id IS NULL)") == [(0,)]
    assert env.rows("SELECT COUNT(DISTINCT workspace_name) FROM main.genie_analytics.genie_audit_events") == [(2,)]


def test_rematerializing_changes_nothing(env_factory: Callable[..., Env]) -> None:
    env = env_factory()
    env.run_all()
    before = (env.rows(BRONZE), env.rows(SILVER))
    env.run_all()
    env.run_range(WORKSPACES[0], env.scenario.start_date + dt.timedelta(days=2), env.scenario.start_date + dt.timedelta(days=2))
    assert (env.rows(BRONZE), env.rows(SILVER)) == before


def test_range_run_equals_day_by_day_runs_in_any_order(env_factory: Callable[..., Env]) -> None:
    ranged = env_factory()
    ranged.run_all()
    daily = env_factory()
    days = [daily.scenario.start_date + dt.timedelta(days=i) for i in range(daily.scenario.days)]
    for day in reversed(days):  # newest first: ownership must still land on the earliest day
        for ws in WORKSPACES:
            daily.run_range(ws, day, day)
    assert daily.rows(SILVER) == ranged.rows(SILVER)
    assert daily.rows(BRONZE) == ranged.rows(BRONZE)


def test_late_audit_rows_are_picked_up_by_rerunning_their_days(env_factory: Callable[..., Env]) -> None:
    """Audit rows of day D arrive after D+k was processed: the message moves to D, never to two days."""
    scenario = make_scenario()
    cutoff = dt.datetime.combine(scenario.start_date + dt.timedelta(days=scenario.days), dt.time(), dt.timezone.utc)
    # Messages a person touched on a later day too; hold back every row of their first day.
    multi_day = {k for k, times in scenario.person_touches.items() if len({t.date() for t in times}) > 1}
    assert multi_day
    held = set()
    for e in scenario.audit_events:
        key = (e["workspace_id"], e["request_params"].get("message_id"))
        if key in multi_day and e["event_date"] == min(scenario.person_touches[key]).date():
            e["_delivered_at"] = cutoff + dt.timedelta(days=2)
            held.add(key)
    env = env_factory(scenario, as_of=cutoff)
    env.run_all()
    early = silver_by_key(env)
    assert all(early[k][3] > min(scenario.person_touches[k]).date() for k in held)  # owned by the later day for now
    late = [e for e in scenario.audit_events if e["_delivered_at"] > cutoff and e["workspace_id"] in WORKSPACES
            and e["service_name"] == "aibiGenie"]
    load_system_tables(env.wh, scenario)  # the rest arrives, days later
    for ws, day in sorted({(e["workspace_id"], e["event_date"]) for e in late}):
        env.run_range(ws, day, day)  # what the sensor will request: only the days that received rows
    assert_matches_truth(env)  # includes: one row per message, owned by its first day
    final = silver_by_key(env)
    assert all(final[k][3] < early[k][3] for k in held)


def test_generated_audit_delivery_is_late_in_batches() -> None:
    scenario = make_scenario(late_fraction=0.2)
    lags = [e["_delivered_at"] - e["event_time"] for e in scenario.audit_events]
    assert any(lag > dt.timedelta(days=1) for lag in lags) and min(lags) > dt.timedelta(0)
    assert sum(lag < dt.timedelta(hours=1) for lag in lags) > len(lags) / 2


def _check_results(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], bool]:
    return {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}


def test_checks_pass_on_good_tables_and_metadata_is_readable(env_factory: Callable[..., Env]) -> None:
    env = env_factory()
    result = env.run_range(WORKSPACES[0], env.scenario.start_date, env.last_day)
    checks = _check_results(result)
    assert len(checks) == 4 and all(checks.values()), checks
    # One materialization per (workspace, day) of the range, each with that day's own figures.
    mats: dict[str, dict[dt.date, dict]] = {}
    for e in result.get_asset_materialization_events():
        day = dt.date.fromisoformat(str(e.partition).split("|")[0])
        mats.setdefault(e.asset_key.to_user_string(), {})[day] = e.event_specific_data.materialization.metadata
    silver = mats["genie_messages_to_fetch"]
    assert len(silver) == env.scenario.days
    truth = list(env.scenario.expected_messages_to_fetch([WORKSPACES[0]]).values())
    for day, meta in silver.items():
        owned = [t for t in truth if t.first_seen_date == day]
        assert meta["dagster/row_count"].value == meta["messages"].value == len(owned)
        assert meta["askers"].value == len({t.asker_email for t in owned})
        assert meta["spaces"].value == len({t.space_id for t in owned})
        assert "| workspace_id |" in meta["preview"].value
        assert mats["genie_audit_events"][day]["people"].value >= meta["askers"].value
    assert sum(m["dagster/row_count"].value for m in silver.values()) == len(truth)
    bronze_rows = env.rows("SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events WHERE workspace_id = :w",
                           {"w": WORKSPACES[0]})[0][0]
    assert sum(m["dagster/row_count"].value for m in mats["genie_audit_events"].values()) == bronze_rows


def test_checks_fail_on_a_duplicated_message(env_factory: Callable[..., Env]) -> None:
    env = env_factory()
    env.run_all()
    env.wh.sql("INSERT INTO main.genie_analytics.genie_messages_to_fetch "
               "SELECT * FROM main.genie_analytics.genie_messages_to_fetch WHERE workspace_id = :w LIMIT 1",
               {"w": WORKSPACES[0]})
    result = env.run_range(WORKSPACES[0], env.last_day, env.last_day)
    checks = _check_results(result)
    assert checks[("genie_messages_to_fetch", "key_unique")] is False
    assert checks[("genie_audit_events", "matches_source")] is True


def test_bronze_check_catches_rows_missing_from_the_source_copy(env_factory: Callable[..., Env]) -> None:
    env = env_factory()
    env.run_range(WORKSPACES[1], env.scenario.start_date, env.scenario.start_date)
    # a source row arrives after the run: the stored partition no longer matches the source
    env.wh.sql("DELETE FROM main.genie_analytics.genie_audit_events WHERE event_id IN "
               "(SELECT event_id FROM main.genie_analytics.genie_audit_events LIMIT 1)")
    quality = env.wh.query("checks/audit_events_slice", {"workspace_id": WORKSPACES[1],
                                                         "start_date": env.scenario.start_date,
                                                         "end_date": env.scenario.start_date,
                                                         "space_ids": ""}).to_pylist()[0]
    assert quality["bronze_rows"] == quality["source_rows"] - 1
