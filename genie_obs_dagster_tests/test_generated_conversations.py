"""Test conversations: asked in a simulated workspace within Genie's 5-questions-per-minute limit (on a fake clock
shared by the generator, its clients and the server's limits, so a minute costs nothing), found by the audit path,
fetched with their final status, and checked by the asset check."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from genie_obs_dagster.assets.generated import CHECK_JOB, CHECK_NAME, GENERATE_JOB
from genie_obs_dagster.genie.auth import OAuthTokenSource
from genie_obs_dagster.genie.client import ClientSettings, GenieClient
from genie_obs_dagster.lifecycle import conversations as C
from genie_obs_dagster.resources import open_warehouse
from genie_obs_dagster.sandbox.server import Principal, SimConfig, WorkspaceFaults
from genie_obs_dagster.sandbox.server.faults import Fault
from genie_obs_dagster.sandbox.system_tables import load_system_tables

from .conftest import START, WORKSPACES, ApiEnv

WS = WORKSPACES[0]
ASKER = Principal("7c1d9e2b-test-asker", "asker-secret", "7c1d9e2b-test-asker", 4_000_000_000_000_001,
                  "genie-obs test asker", can_manage=False, person=True)
GENERATED_AT = dt.datetime.combine(START + dt.timedelta(days=5), dt.time(9, 0), dt.timezone.utc)


class FakeTime:
    """One clock for everybody: ``sleep`` advances it; the server's business clock and limits read it."""

    def __init__(self, start: dt.datetime):
        self.start, self.t, self.slept = start, 0.0, 0.0

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        self.slept += max(0.0, seconds)

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.t)


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime(GENERATED_AT)


@pytest.fixture
def make_env(api_env_factory: Callable[..., ApiEnv], fake: FakeTime,
             monkeypatch: pytest.MonkeyPatch) -> Callable[..., ApiEnv]:
    def make(questions_per_window: int = 5, faults: tuple[Fault, ...] = (), backend: str = "duckdb",
             rewrite_body: Callable[[str, Any, bytes], bytes | None] | None = None, **settings: Any) -> ApiEnv:
        config = SimConfig(clock=fake.now, answer_delay_s=0.5, audit_delay_s=60.0, principals=(ASKER,),
                           answer_status=lambda content: "FAILED" if "churn" in content.lower() else "COMPLETED",
                           faults=WorkspaceFaults(requests_per_second=None, questions_per_window=questions_per_window,
                                                  question_window_s=60.0, limits_clock=fake.monotonic, faults=faults,
                                                  rewrite_body=rewrite_body))
        env = api_env_factory(config=config, backend=backend, **settings)
        monkeypatch.setenv(C.ASKER_CLIENT_ID_ENV, ASKER.client_id)
        monkeypatch.setenv(C.ASKER_CLIENT_SECRET_ENV, ASKER.client_secret)
        return env

    return make


def space_with_questions(env: ApiEnv) -> str:
    return next(s.space_id for s in env.scenario.spaces if s.workspace_id == WS and questions_of(env, s.space_id))


def questions_of(env: ApiEnv, space_id: str) -> list[C.Question]:
    space = env.sim.app(WS).state.spaces[space_id]
    return C.space_questions({"serialized_space": json.dumps(space.serialized_space)})


def run_generator(env: ApiEnv, fake: FakeTime, **options: Any) -> C.Outcome:
    opts = C.GenerateOptions(workspace_id=WS, **options)
    url = env.sim.urls[WS]
    reader = GenieClient(WS, url, OAuthTokenSource(url, env.sim.client_id, env.sim.client_secret),
                         ClientSettings(rate_per_s=1000), sleep=fake.sleep, clock=fake.monotonic)
    asker, asked_as = C.asker_client(env.settings, opts, clock=fake.monotonic, sleep=fake.sleep)
    try:
        with open_warehouse(env.settings) as wh:  # as the command does, on either back end
            wh.ensure_schema()
            return C.generate(env.settings, opts, reader, asker, asked_as, generation_id="gen-1",
                              sink=lambda rows: wh.merge_rows(C.TABLE, C.rows_table(rows), C.KEYS),
                              clock=fake.monotonic, sleep=fake.sleep, now=fake.now)
    finally:
        reader.close()
        asker.close()


def ingest_and_check(env: ApiEnv) -> Any:
    env.run_range(WS, START, GENERATED_AT.date(), "genie_ingest")
    result = env.defs.resolve_job_def(CHECK_JOB).execute_in_process(instance=env.instance)
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == CHECK_NAME]
    return evaluation


@pytest.mark.parametrize("backend", ["duckdb", "databricks"])
def test_generated_questions_respect_the_limit_and_are_found_by_the_audit_path(make_env: Callable[..., ApiEnv],
                                                                                  fake: FakeTime, backend: str) -> None:
    env = make_env(backend=backend)
    space_id = space_with_questions(env)
    out = run_generator(env, fake, space_ids=(space_id,), questions=3, follow_ups=2)

    # 3 conversations x (1 + 2 follow-ups), each asked once, each polled to its final status.
    assert len(out.rows) == 9 and out.asked == 9 and not out.skipped_spaces
    assert [(r["conversation_no"], r["turn"]) for r in out.rows] == [(n, t) for n in (1, 2, 3) for t in (0, 1, 2)]
    assert all(r["final_status"] in ("COMPLETED", "FAILED") and not r["timed_out"] and r["polls"] >= 1 for r in out.rows)
    assert len({r["conversation_id"] for r in out.rows}) == 3 and len({r["message_id"] for r in out.rows}) == 9
    server_msgs = {m.message_id: m for m in env.scenario.messages if m.message_id in {r["message_id"] for r in out.rows}}
    assert len(server_msgs) == 9 and all(m.user_id == ASKER.user_id and m.channel == "API" for m in server_msgs.values())
    assert {r["question"] for r in out.rows} <= {q.text for q in questions_of(env, space_id)}
    # The 5-per-minute limit, on the shared fake clock: no question was refused, and any 6 asks span >= 60 s.
    assert env.sim.stats(WS).throttled == 0
    asked = sorted(r["asked_at"] for r in out.rows)
    assert all((asked[i + 5] - asked[i]).total_seconds() >= 60 for i in range(len(asked) - 5))
    assert sum(r["throttle_wait_ms"] for r in out.rows) >= 50_000  # the first five took a few seconds of polls

    # The table holds what was asked.
    stored = env.rows("SELECT message_id, final_status, asked_as FROM main.genie_analytics.generated_conversations "
                      "ORDER BY asked_at")
    assert [(m, s) for m, s, _ in stored] == [(r["message_id"], r["final_status"]) for r in out.rows]
    assert {a for _, _, a in stored} == {ASKER.client_id}

    # Every audit row delivered, then the audit path + fetch: each message found with its final status.
    load_system_tables(env.wh, env.scenario)
    evaluation = ingest_and_check(env)
    assert evaluation.passed, evaluation.description
    assert evaluation.metadata["generated_messages"].value == 9 and evaluation.metadata["not_found"].value == 0
    ids = {"ids": ",".join(r["message_id"] for r in out.rows)}
    details = dict(env.rows("SELECT message_id, status FROM main.genie_analytics.message_details "
                            "WHERE array_contains(split(:ids, ','), message_id)", ids))
    assert details == {r["message_id"]: r["final_status"] for r in out.rows}
    askers = {a for (a,) in env.rows("SELECT DISTINCT asker_email FROM main.genie_analytics.genie_messages_to_fetch "
                                     "WHERE array_contains(split(:ids, ','), message_id)", ids)}
    assert askers == {ASKER.identity}
    if backend == "databricks":  # the check's statement carries the run's query tags; every id a bound value
        checks = [s for s in env.sim.sql_statements() if {"key": "genie_obs_sql", "value":
                  f"sql/{C.CHECK_SQL}.sql"} in s.query_tags]
        assert checks and all({t["key"] for t in s.query_tags} >= {"dagster_run_id", "dagster_job"} for s in checks)
        assert not any(r["message_id"] in s.statement for s in env.sim.sql_statements() for r in out.rows)


def test_check_names_a_message_whose_audit_rows_have_not_arrived(make_env: Callable[..., ApiEnv],
                                                                  fake: FakeTime) -> None:
    env = make_env()
    # Six questions: the sixth waits for the 5-a-minute window, so the generation spans more than the 60 s audit lag.
    out = run_generator(env, fake, space_ids=(space_with_questions(env),), questions=3, follow_ups=1)
    # Deliver only what Databricks would have delivered by the end of the generation (audit rows lag 60 s).
    load_system_tables(env.wh, env.scenario, as_of=fake.now())
    evaluation = ingest_and_check(env)
    assert not evaluation.passed and evaluation.metadata["generated_messages"].value == 6
    last = out.rows[-1]["message_id"]
    assert f"message {last} " in evaluation.description and "audit rows not arrived" in evaluation.description
    first = out.rows[0]["message_id"]  # asked more than the 60 s audit lag before the end: delivered and fetched
    assert first not in evaluation.description and evaluation.metadata["not_found"].value < 6
    # Once the rest arrives and is ingested, the same check passes.
    load_system_tables(env.wh, env.scenario)
    assert ingest_and_check(env).passed


def test_a_429_with_retry_after_is_honoured_and_nothing_is_asked_twice(make_env: Callable[..., ApiEnv],
                                                                         fake: FakeTime) -> None:
    env = make_env(questions_per_window=2)  # the server allows fewer than the generator's 5 a minute
    out = run_generator(env, fake, space_ids=(space_with_questions(env),), questions=2, follow_ups=1)
    assert out.asked == 4 and all(r["error_type"] is None and r["final_status"] for r in out.rows)
    stats = env.sim.stats(WS)
    assert stats.throttled >= 1  # refused, then admitted after waiting Retry-After (on the fake clock)
    assert stats.by_kind["start_conversation"] + stats.by_kind["create_message"] == 4 + stats.throttled
    created = sorted(r["created_timestamp"] for r in out.rows)  # the server's own times (its fake clock)
    assert created[2] - created[0] >= 60_000
    assert max(r["throttle_wait_ms"] for r in out.rows) >= 50_000
    assert len({m.message_id for m in env.scenario.messages if m.user_id == ASKER.user_id}) == 4


def test_a_lost_answer_is_looked_up_instead_of_asking_twice(make_env: Callable[..., ApiEnv], fake: FakeTime) -> None:
    env = make_env(faults=(Fault("drop", kinds=frozenset({"start_conversation"}), limit=1),))
    out = run_generator(env, fake, space_ids=(space_with_questions(env),), questions=1, follow_ups=1)
    first = out.rows[0]
    assert first["recovered"] and first["message_id"] and first["final_status"]
    mine = [m for m in env.scenario.messages if m.user_id == ASKER.user_id]
    assert len(mine) == 2 and sorted(m.message_id for m in mine) == sorted(r["message_id"] for r in out.rows)


def test_bad_options_name_the_option_and_what_is_allowed(make_env: Callable[..., ApiEnv],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env()
    with pytest.raises(C.OptionsError) as bad:
        C.validate(env.settings, C.GenerateOptions(workspace_id="999", follow_ups=3, questions=0, space_ids=("abc",),
                                                   poll_timeout_s=float("inf")))
    text = str(bad.value)
    assert f"--workspace '999' is not a configured workspace; allowed: {', '.join(WORKSPACES)}" in text
    assert "--follow-ups 3 is not allowed; allowed: 0, 1 or 2" in text
    assert "--questions 0 is not allowed; allowed: 1 to 20" in text
    assert "--space 'abc' is not allowed" in text
    assert "--poll-timeout inf is not allowed; allowed: seconds, more than 0 and at most 86400 (a day)" in text
    # The job says the same, as a failed run naming the option.
    result = env.defs.resolve_job_def(GENERATE_JOB).execute_in_process(
        instance=env.instance, raise_on_error=False,
        run_config={"ops": {C.TABLE: {"config": {"workspace": WS, "follow_ups": 3}}}})
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "--follow-ups 3 is not allowed; allowed: 0, 1 or 2" in str(failure.event_specific_data.error)
    # The command exits 2 with the same words; asking as the ingestion principal is refused.
    from genie_obs_dagster.cli import run_generate_command

    class Args:
        workspace, space, questions, follow_ups, poll_timeout = WS, [], 1, 3, 600.0

    assert run_generate_command(env.settings, Args()) == 2  # type: ignore[arg-type]
    monkeypatch.setenv(C.ASKER_CLIENT_ID_ENV, env.settings.ingestion_principal.identity)
    with pytest.raises(C.OptionsError, match="names the ingestion principal"):
        C.asker_client(env.settings, C.GenerateOptions(workspace_id=WS))


@pytest.mark.parametrize("backend", ["duckdb", "databricks"])
def test_the_job_generates_and_records(api_env_factory: Callable[..., ApiEnv], monkeypatch: pytest.MonkeyPatch,
                                       backend: str) -> None:
    """The Dagster job end to end on real clocks (answers after 0.2 s, so one poll each)."""
    config = SimConfig(answer_delay_s=0.2, principals=(ASKER,), answer_status=lambda content: "COMPLETED",
                       faults=WorkspaceFaults(requests_per_second=None))
    env = api_env_factory(config=config, backend=backend)
    monkeypatch.setenv(C.ASKER_CLIENT_ID_ENV, ASKER.client_id)
    monkeypatch.setenv(C.ASKER_CLIENT_SECRET_ENV, ASKER.client_secret)
    space_id = space_with_questions(env)
    result = env.defs.resolve_job_def(GENERATE_JOB).execute_in_process(
        instance=env.instance,
        run_config={"ops": {C.TABLE: {"config": {"workspace": WS, "space_ids": [space_id], "follow_ups": 1}}}})
    assert result.success
    rows = env.rows("SELECT generation_id, turn, final_status FROM main.genie_analytics.generated_conversations "
                    "ORDER BY turn")
    assert rows == [(result.run_id, 0, "COMPLETED"), (result.run_id, 1, "COMPLETED")]
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and "audit rows not arrived" in evaluation.description  # right after asking


def test_hostile_configurations_and_answers_are_named_not_crashed(make_env: Callable[..., ApiEnv],
                                                                   fake: FakeTime) -> None:
    """Spaces whose serialized_space is not JSON text, nested too deeply or of the wrong shape are skipped, each with
    why; a start-conversation answer whose status and creation time are of other types is not stored as such (the
    poll reads the checked message)."""
    hostile: dict[str, Any] = {}

    def rewrite(kind: str, path: Any, body: bytes) -> bytes | None:
        change = hostile.get(kind if kind == "start_conversation" else path.get("space_id", ""))
        return json.dumps(change(json.loads(body))).encode() if change and kind in ("get_space",
                                                                                      "start_conversation") else None

    env = make_env(rewrite_body=rewrite)
    good = space_with_questions(env)
    number, deep, shapeless = [s.space_id for s in env.scenario.spaces if s.workspace_id == WS and s.space_id != good][:3]
    hostile.update({
        number: lambda a: {**a, "serialized_space": 5},
        deep: lambda a: {**a, "serialized_space": "[" * 100_000 + "]" * 100_000},
        shapeless: lambda a: {**a, "serialized_space": json.dumps({"config": "x", "benchmarks": ["y", 5]})},
        "start_conversation": lambda a: {**a, "message": {**a["message"], "status": ["COMPLETED"],
                                                          "created_timestamp": "yesterday"}},
    })
    out = run_generator(env, fake, space_ids=(good, number, deep, shapeless), questions=1, follow_ups=0)
    assert out.skipped_spaces == {
        # refused by the client's check of a space's answer (genie/client.py: space_body_problem)
        number: "cannot read the space: MALFORMED_RESPONSE HTTP 200: space fields that are not text: serialized_space",
        deep: "cannot read the space: MALFORMED_RESPONSE HTTP 200: space serialized_space is nested too deeply to read",
        shapeless: "serialized_space has no sample questions or benchmarks"}
    (row,) = out.rows
    assert row["space_id"] == good and row["final_status"] == "COMPLETED" and row["created_timestamp"] is None
    assert env.rows("SELECT space_id, final_status FROM main.genie_analytics.generated_conversations") == \
        [(good, "COMPLETED")]


def test_a_lost_answer_that_cannot_be_looked_up_is_not_asked_again(make_env: Callable[..., ApiEnv], fake: FakeTime,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The answer to a question is lost and the listing of the asker's conversations has no usable ids: the question
    may exist, so it is not asked again (asked twice), and the row says why. Then the workspace's spaces cannot be
    listed: the command says so and exits 1."""
    def no_ids(kind: str, path: Any, body: bytes) -> bytes | None:
        if kind != "list_conversations":
            return None
        listed = json.loads(body).get("conversations", [])
        return json.dumps({"conversations": [{k: v for k, v in c.items() if k not in ("conversation_id", "id")}
                                             for c in listed]}).encode()

    env = make_env(faults=(Fault("drop", kinds=frozenset({"start_conversation"}), limit=1),), rewrite_body=no_ids,
                   api={"max_attempts": 1})
    out = run_generator(env, fake, space_ids=(space_with_questions(env),), questions=1, follow_ups=1)
    (row,) = out.rows
    assert row["message_id"] is None and not row["recovered"] and row["error_type"]
    assert "not asked again: a conversation listed with this question has no usable id" in row["error_message"]
    assert len([m for m in env.scenario.messages if m.user_id == ASKER.user_id]) == 1  # asked once

    from genie_obs_dagster.cli import run_generate_command

    env.sim.set_faults(WS, WorkspaceFaults(requests_per_second=None, faults=(Fault("500", kinds=frozenset({"list_spaces"})),)))

    class Args:
        workspace, space, questions, follow_ups, poll_timeout = WS, [], 1, 0, 600.0

    capsys.readouterr()
    assert run_generate_command(env.settings, Args()) == 1  # type: ignore[arg-type]
    assert capsys.readouterr().err.startswith(f"error: cannot list the spaces of workspace {WS} (no --space given")
