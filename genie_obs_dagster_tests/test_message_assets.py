"""message_details / message_fetch_errors against the simulated workspace: truth, errors and their
resolution, pending messages, space filter, reruns and no secret anywhere (a run killed midway:
test_crash_recovery.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from genie_obs_dagster.sandbox.server import Fault, SimConfig, WorkspaceFaults

from .conftest import WORKSPACES, ApiEnv, make_scenario

DETAILS = ("SELECT workspace_id, message_id, space_id, conversation_id, first_seen_date, content, status, is_final, "
           "created_timestamp, user_id, asker_user_name, query_sql, statement_id, query_row_count, text_answer, "
           "error_type, feedback_rating, attachments_count, discovered_via, fetch_attempts "
           "FROM main.genie_analytics.message_details ORDER BY workspace_id, message_id")
ERRORS = ("SELECT workspace_id, message_id, error_type, http_status, permanent, attempt_count, resolved "
          "FROM main.genie_analytics.message_fetch_errors ORDER BY workspace_id, message_id")
NO_LIMIT = WorkspaceFaults(requests_per_second=None)


def details(env: ApiEnv) -> dict[tuple[str, str], dict]:
    cols = ["workspace_id", "message_id", "space_id", "conversation_id", "first_seen_date", "content", "status",
            "is_final", "created_timestamp", "user_id", "asker_user_name", "query_sql", "statement_id",
            "query_row_count", "text_answer", "error_type", "feedback_rating", "attachments_count", "discovered_via",
            "fetch_attempts"]
    rows = [dict(zip(cols, r, strict=True)) for r in env.rows(DETAILS)]
    return {(r["workspace_id"], r["message_id"]): r for r in rows}


def test_message_details_match_the_scenario(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory()
    results = env.ingest_all()
    truth = env.scenario.expected_messages_to_fetch()
    got = details(env)
    assert set(got) == set(truth)
    by_key = {m.key: m for m in env.scenario.messages}
    emails = {u.user_id: u.email for u in env.scenario.users}
    for key, row in got.items():
        m = by_key[key]
        assert row["status"] == m.final_status and row["is_final"]
        assert row["content"] == m.content and row["space_id"] == m.space_id
        assert row["user_id"] == m.user_id and row["asker_user_name"] == emails[m.user_id]
        assert row["first_seen_date"] == truth[key].first_seen_date
        assert row["created_timestamp"] == int(m.created_at.timestamp() * 1000)
        if m.final_status == "COMPLETED":
            assert row["query_sql"] == m.sql and row["statement_id"] == m.statement_id
            assert row["query_row_count"] == m.row_count and row["text_answer"]
        if m.final_status == "FAILED":
            assert row["error_type"] == m.error_type
        assert row["feedback_rating"] == m.feedback_rating
        assert row["fetch_attempts"] == 1 and row["discovered_via"] == "audit"
    assert env.rows(ERRORS) == []
    for r in results:
        evals = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in r.get_asset_check_evaluations()}
        assert evals and all(evals.values()), evals
    # One materialization per (workspace, day) partition of the range, each with its own figures.
    mats = [e.event_specific_data.materialization for e in results[0].get_asset_materialization_events()
            if e.asset_key.to_user_string() == "message_details"]
    assert len(mats) == env.scenario.days

    def total(key: str) -> int:
        return sum(int(m.metadata[key].value) for m in mats if key in m.metadata)

    assert total("fetched") == total("final_messages") == len([k for k in truth if k[0] == WORKSPACES[0]])
    served = env.sim.stats(WORKSPACES[0]).by_kind  # the API calls, once (OAuth calls are counted apart)
    api_calls = sum(n for kind, n in served.items() if kind not in ("oidc_discovery", "token"))
    assert total("failed") == 0 and total("api_requests") == api_calls


def test_rerun_fetches_nothing_and_changes_nothing(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory()
    env.ingest_all()
    before = env.rows(DETAILS)
    gets = env.sim.stats(WORKSPACES[0]).by_kind.get("get_message", 0)
    env.ingest_all()
    assert env.rows(DETAILS) == before
    assert env.sim.stats(WORKSPACES[0]).by_kind.get("get_message", 0) == gets


def test_transient_errors_are_recorded_retried_and_resolved(api_env_factory: Callable[..., ApiEnv]) -> None:
    faults = WorkspaceFaults(requests_per_second=None,
                             faults=(Fault("500", kinds=frozenset({"get_message"}), limit=40),))
    env = api_env_factory(config=SimConfig(faults=NO_LIMIT, workspace_faults={WORKSPACES[0]: faults}),
                          api={"max_attempts": 2})
    env.ingest_all()
    errors = env.rows(ERRORS)
    assert errors and all(e[2] == "SERVER_ERROR" and e[3] == 500 and not e[4] and e[5] == 1 and not e[6] for e in errors)
    failed = {(e[0], e[1]) for e in errors}
    assert not failed & set(details(env))  # a failed message has no details row yet, but it is not lost
    env.ingest_all()  # the fault budget is spent: the retry succeeds
    assert all(e[6] and e[5] == 2 for e in env.rows(ERRORS))  # resolved, two attempts
    got = details(env)
    assert failed <= set(got) and all(got[k]["fetch_attempts"] == 1 for k in failed)
    assert set(got) == set(env.scenario.expected_messages_to_fetch())


def test_permanent_errors_are_not_retried(api_env_factory: Callable[..., ApiEnv]) -> None:
    scenario = make_scenario()
    gone = next(s.space_id for s in scenario.spaces if s.workspace_id == WORKSPACES[1])
    revoked = next(s.space_id for s in scenario.spaces if s.workspace_id == WORKSPACES[1] and s.space_id != gone)
    faults = WorkspaceFaults(requests_per_second=None, deleted_space_ids=frozenset({gone}),
                             revoked_space_ids=frozenset({revoked}))
    env = api_env_factory(scenario, SimConfig(faults=NO_LIMIT, workspace_faults={WORKSPACES[1]: faults}))
    env.ingest_all()
    errors = env.rows(ERRORS)
    types = {e[2] for e in errors}
    assert types == {"NOT_FOUND", "PERMISSION_DENIED"} and all(e[4] for e in errors)
    gets = env.sim.stats(WORKSPACES[1]).by_kind.get("get_message", 0)
    env.ingest_all()
    assert env.sim.stats(WORKSPACES[1]).by_kind.get("get_message", 0) == gets  # not asked again
    assert env.rows(ERRORS) == errors


def test_a_message_still_running_is_fetched_again_until_final(api_env_factory: Callable[..., ApiEnv]) -> None:
    scenario = make_scenario()
    last = max(scenario.messages, key=lambda m: m.created_at)
    now = {"t": last.created_at + (last.final_at - last.created_at) / 3}
    env = api_env_factory(scenario, SimConfig(faults=NO_LIMIT, clock=lambda: now["t"]))
    env.ingest_all()
    pending = {k: r for k, r in details(env).items() if not r["is_final"]}
    assert last.key in pending and pending[last.key]["status"] not in ("COMPLETED", "FAILED", "CANCELLED")
    now["t"] = last.final_at + dt.timedelta(seconds=1)
    gets = sum(env.sim.stats(w).by_kind.get("get_message", 0) for w in WORKSPACES)
    env.ingest_all()
    assert sum(env.sim.stats(w).by_kind.get("get_message", 0) for w in WORKSPACES) - gets == len(pending)
    final = details(env)[last.key]
    assert final["is_final"] and final["status"] == last.final_status and final["fetch_attempts"] == 2


def test_space_filter_limits_what_is_fetched(api_env_factory: Callable[..., ApiEnv]) -> None:
    scenario = make_scenario()
    keep = next(s.space_id for s in scenario.spaces if s.workspace_id == WORKSPACES[0])
    env = api_env_factory(scenario, space_ids={WORKSPACES[0]: [keep]})
    env.ingest_all()
    got = details(env)
    assert {r["space_id"] for k, r in got.items() if k[0] == WORKSPACES[0]} == {keep}
    for table in ("genie_audit_events", "genie_messages_to_fetch"):  # the allow list applies to every asset
        assert env.rows(f"SELECT DISTINCT space_id FROM main.genie_analytics.{table} "  # noqa: S608
                        "WHERE workspace_id = :w AND space_id IS NOT NULL", {"w": WORKSPACES[0]}) == [(keep,)]
    ws1_truth = {k for k in scenario.expected_messages_to_fetch() if k[0] == WORKSPACES[1]}
    assert {k for k in got if k[0] == WORKSPACES[1]} == ws1_truth


def test_no_secret_in_logs_metadata_or_tables(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory(config=SimConfig(faults=WorkspaceFaults(
        requests_per_second=None, faults=(Fault("500", kinds=frozenset({"get_message"}), limit=5),))), api={"max_attempts": 1})
    results = env.ingest_all()
    secret = env.sim.client_secret
    texts = []
    for r in results:
        texts += [str(rec) for rec in env.instance.all_logs(r.run_id)]
    texts += [str(row) for t in ("message_details", "message_fetch_errors")
              for row in env.rows(f"SELECT * FROM main.genie_analytics.{t}")]  # noqa: S608
    assert texts and env.rows(ERRORS)
    assert not [t for t in texts if secret in t or "Bearer " in t]
    assert secret not in repr(env.defs.resources)
