"""Benchmarks on a schedule: genie_eval_runs against the simulated workspace's eval-run endpoints, the stored runs
and per-question results, the accuracy-drop check, the mart and dashboard dataset, the schedules, the settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import dagster as dg
import pytest

from genie_obs_dagster.assets.evals import AS_OF_TAG, EVAL_ASSET, EVAL_CHECK
from genie_obs_dagster.genie.errors import GenieApiError
from genie_obs_dagster.lifecycle import evals
from genie_obs_dagster.resources import GenieResource, open_warehouse
from genie_obs_dagster.sandbox.server import Fault, SimConfig, WorkspaceFaults
from genie_obs_dagster.sandbox.server.evals import EvalTiming, benchmark_questions, set_eval_timing, store_of
from genie_obs_dagster.schedules import (
    EVAL_COLLECT_SCHEDULE,
    EVAL_SCHEDULE,
    build_eval_schedules,
    open_eval_runs,
)

from .conftest import WORKSPACES, ApiEnv

WS = WORKSPACES[0]
# A Monday 05:00 UTC tick of the default cron "0 5 * * 1", and the next one.
TICK = dt.datetime(2026, 3, 9, 5, 0, tzinfo=dt.timezone.utc)
NEXT_TICK = TICK + dt.timedelta(days=7)
TIMING = EvalTiming(start_delay_s=5, seconds_per_question=10, failure_rate=0.0)


class Clock:
    """The simulated workspace's clock, moved by the test (eval runs progress on it)."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def eval_env(api_env_factory: Callable[..., ApiEnv], clock: Clock, ingest: bool = True, backend: str = "duckdb",
             **evals_settings: object) -> ApiEnv:
    config = SimConfig(clock=clock, faults=WorkspaceFaults(requests_per_second=None))
    env = api_env_factory(config=config, backend=backend, evals={"cron": "0 5 * * 1", **evals_settings})
    set_eval_timing(env.sim.app(WS).state, TIMING)
    if ingest:
        env.run_range(WS, env.scenario.start_date, env.last_day, "genie_ingest")
    return env


def materialize(env: ApiEnv, as_of: dt.datetime, *, success: bool = True) -> dg.ExecuteInProcessResult:
    job = env.defs.resolve_job_def("genie_evals")
    result = job.execute_in_process(instance=env.instance, partition_key=WS, tags={AS_OF_TAG: as_of.isoformat()},
                                    raise_on_error=False)
    assert result.success is success
    return result


def runs(env: ApiEnv) -> dict[str, dict]:
    rows = env.rows("SELECT eval_run_id, space_id, eval_run_status, is_final, num_questions, num_done, num_correct, "
                    "num_needs_review, num_bad, accuracy, started_by_pipeline, results_stored FROM main.genie_analytics.genie_eval_runs "
                    "WHERE workspace_id = :w", {"w": WS})
    keys = ("space_id", "status", "final", "questions", "done", "correct", "review", "bad", "accuracy", "ours", "results")
    return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows}


def results(env: ApiEnv) -> dict[str, tuple]:
    rows = env.rows("SELECT result_id, eval_run_id, benchmark_question_id, question, assessment, is_correct "
                    "FROM main.genie_analytics.genie_eval_results WHERE workspace_id = :w", {"w": WS})
    return {r[0]: r[1:] for r in rows}


def check_of(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == EVAL_CHECK]
    return evaluation


def simulated(env: ApiEnv) -> dict[str, dict]:
    """The runs the simulated workspace holds, as it would report them once final."""
    store = store_of(env.sim.app(WS).state)
    return {rid: {"space_id": r.space_id, "questions": {q.result_id: (q.question_id, q.question, q.assessment)
                                                         for q in r.questions}} for rid, r in store.runs.items()}


@pytest.mark.parametrize("backend", ["duckdb", "databricks"])
def test_runs_start_for_spaces_with_benchmarks_only_and_are_stored_once_finished(
        api_env_factory: Callable[..., ApiEnv], backend: str) -> None:
    clock = Clock(TICK + dt.timedelta(minutes=1))
    env = eval_env(api_env_factory, clock, ingest=False, backend=backend)
    spaces = [s for s in env.scenario.spaces if s.workspace_id == WS]
    without = next(s for s in env.scenario.spaces if s.workspace_id == WS)
    without.serialized_space["benchmarks"] = {"questions": []}  # a space that defines no benchmark
    env.run_range(WS, env.scenario.start_date, env.last_day, "genie_ingest")
    env.refresh_spaces(WS)
    seen = {r[0] for r in env.rows("SELECT space_id FROM main.genie_analytics.genie_space_details WHERE workspace_id = :w", {"w": WS})}
    expected = {s.space_id for s in spaces if s.space_id in seen and benchmark_questions(s)}
    assert expected and without.space_id in seen and without.space_id not in expected

    # 1. The schedule fires: one run per space with benchmarks, stored as NOT_STARTED; nothing waits for it.
    first = materialize(env, TICK)
    sim = simulated(env)
    assert {r["space_id"] for r in sim.values()} == expected and len(sim) == len(expected)
    stored = runs(env)
    assert set(stored) == set(sim)
    assert all(r["status"] == "NOT_STARTED" and not r["final"] and r["ours"] and r["accuracy"] is None
               for r in stored.values())
    assert results(env) == {}
    meta = first.asset_materializations_for_node(EVAL_ASSET)[0].metadata
    assert meta["runs_started"].value == len(expected) and meta["open_eval_runs"].value == len(expected)
    assert check_of(first).passed  # nothing to compare yet

    # The collect schedule asks for a workspace only while its latest materialization left runs open.
    assert open_eval_runs(env.instance, WS) == len(expected) and open_eval_runs(env.instance, WORKSPACES[1]) == 0

    # 2. Part way: still running, collected again, never started twice, never duplicated.
    clock.advance(TIMING.start_delay_s + TIMING.seconds_per_question * 2)
    materialize(env, TICK + dt.timedelta(minutes=30))
    assert len(simulated(env)) == len(expected)
    stored = runs(env)
    assert set(stored) == set(sim) and all(r["status"] == "RUNNING" and r["done"] == 2 for r in stored.values())
    assert results(env) == {}

    # 3. Finished: every run DONE with the per-question results the simulated workspace reports.
    clock.advance(3600)
    materialize(env, TICK + dt.timedelta(hours=1))
    stored = runs(env)
    got = results(env)
    for rid, run in sim.items():
        row = stored[rid]
        good = sum(a == "GOOD" for _, _, a in run["questions"].values())
        review = sum(a == "NEEDS_REVIEW" for _, _, a in run["questions"].values())
        n = len(run["questions"])
        assert row["status"] == "DONE" and row["final"] and row["questions"] == row["done"] == n
        assert (row["correct"], row["review"], row["bad"]) == (good, review, n - good - review)
        assert row["accuracy"] == pytest.approx(good / n)  # NEEDS_REVIEW counts as not correct
        assert row["results"] == n
        assert {k: (v[1], v[2], v[3]) for k, v in got.items() if v[0] == rid} == run["questions"]
    assert all(v[4] == (v[3] == "GOOD") for v in got.values())
    assert len(got) == sum(len(r["questions"]) for r in sim.values())

    # 4. Again, before the next tick: nothing started, nothing added; the collect schedule has nothing to do.
    materialize(env, TICK + dt.timedelta(hours=2))
    assert runs(env).keys() == stored.keys() and results(env) == got and len(simulated(env)) == len(expected)
    assert open_eval_runs(env.instance, WS) == 0

    # 5. The mart charts accuracy per space over time; the dashboard dataset reads it.
    marts = env.defs.resolve_job_def("genie_marts")
    mart_run = marts.execute_in_process(instance=env.instance, asset_selection=[dg.AssetKey("mart_eval_accuracy")])
    assert mart_run.success and all(e.passed for e in mart_run.get_asset_check_evaluations())
    mart = env.rows("SELECT eval_run_id, space_id, run_number, accuracy, previous_accuracy, is_latest "
                    "FROM main.genie_analytics.mart_eval_accuracy")
    assert {(r[0], r[1]) for r in mart} == {(rid, r["space_id"]) for rid, r in stored.items()}
    assert all(r[2] == 1 and r[4] is None and r[5] and r[3] == pytest.approx(stored[r[0]]["accuracy"]) for r in mart)
    with open_warehouse(env.settings) as wh:
        chart = wh.query("dashboards/eval_accuracy").to_pylist()
    assert {r["eval_run_id"] for r in chart} == set(stored) and all(r["space"] for r in chart)

    # 6. Reruns duplicate nothing: the collection, the mart.
    tables = ("genie_eval_runs", "genie_eval_results", "mart_eval_accuracy")
    before = {t: env.rows(f"SELECT COUNT(*) FROM main.genie_analytics.{t}") for t in tables}  # noqa: S608
    materialize(env, TICK + dt.timedelta(hours=3))
    assert marts.execute_in_process(instance=env.instance, asset_selection=[dg.AssetKey("mart_eval_accuracy")]).success
    assert {t: env.rows(f"SELECT COUNT(*) FROM main.genie_analytics.{t}") for t in tables} == before  # noqa: S608
    assert sorted(env.rows("SELECT eval_run_id, space_id, run_number, accuracy, previous_accuracy, is_latest "
                           "FROM main.genie_analytics.mart_eval_accuracy")) == sorted(mart)
    if backend == "databricks":  # every value travelled as a bound parameter, nothing was left in the volume
        texts = [s.statement for s in env.sim.sql_statements()]
        assert not any(WS in t or rid in t for t in texts for rid in stored)
        assert not list(env.sim.volumes.root.rglob("*.parquet"))


def test_the_check_warns_when_accuracy_drops_beyond_the_margin(api_env_factory: Callable[..., ApiEnv]) -> None:
    clock = Clock(TICK + dt.timedelta(minutes=1))
    env = eval_env(api_env_factory, clock, accuracy_drop_margin=0.1)
    env.refresh_spaces(WS)
    materialize(env, TICK)
    clock.advance(3600)
    first = materialize(env, TICK + dt.timedelta(hours=1))
    assert check_of(first).passed
    before = runs(env)
    assert all(r["status"] == "DONE" for r in before.values())

    # A week later the cron ticks again: new runs. One space gets every answer wrong, the others repeat themselves.
    clock.advance(7 * 86400)
    materialize(env, NEXT_TICK)
    store = store_of(env.sim.app(WS).state)
    new = {rid: r for rid, r in store.runs.items() if rid not in before}
    assert len(new) == len(before)  # one new run per space, started by the tick
    worse = min(new.values(), key=lambda r: r.space_id)
    old = next(r for r in before.values() if r["space_id"] == worse.space_id)
    assert old["accuracy"] > 0.1
    for q in worse.questions:
        q.assessment = "BAD"
    same = {r.space_id: r for r in new.values() if r is not worse}
    previous = {r.space_id: r for r in store.runs.values() if r.eval_run_id in before}
    for space_id, r in same.items():  # the same assessments as last time: no drop
        for q, p in zip(r.questions, previous[space_id].questions, strict=True):
            q.assessment = p.assessment
    clock.advance(3600)
    second = materialize(env, NEXT_TICK + dt.timedelta(hours=1))
    evaluation = check_of(second)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    title = next(s.title for s in env.scenario.spaces if s.space_id == worse.space_id)
    assert evaluation.description == (f"space '{title}' ({worse.space_id}): accuracy 0.0% in eval run "
                                       f"{worse.eval_run_id}, down from {old['accuracy']:.1%} in eval run "
                                       f"{next(k for k, v in before.items() if v['space_id'] == worse.space_id)}")
    assert evaluation.metadata["spaces_dropped"].value == 1
    assert evaluation.metadata["spaces_compared"].value == len(before)
    assert second.success  # a WARN never fails the run


def test_accuracy_drop_margin_boundaries() -> None:
    def row(prev: float | None, latest: float) -> dict:
        return {"space_id": "a" * 32, "space_title": "Sales", "previous_run_id": "p", "previous_accuracy": prev,
                "latest_run_id": "l", "latest_accuracy": latest}

    assert evals.accuracy_drops([row(0.75, 0.65)], 0.1) == []       # exactly the margin: not more than it
    assert evals.accuracy_drops([row(0.75, 0.7)], 0.1) == []
    assert evals.accuracy_drops([row(0.5, 1.0)], 0.1) == []         # a rise
    assert evals.accuracy_drops([row(None, 0.1)], 0.1) == []        # first run: nothing to compare
    (drop,) = evals.accuracy_drops([row(0.75, 0.5)], 0.1)
    assert drop.describe() == f"space 'Sales' ({'a' * 32}): accuracy 50.0% in eval run l, down from 75.0% in eval run p"


def test_a_start_whose_answer_is_lost_is_not_retried_and_its_run_is_found(
        api_env_factory: Callable[..., ApiEnv]) -> None:
    clock = Clock(TICK + dt.timedelta(minutes=1))
    env = eval_env(api_env_factory, clock)
    env.refresh_spaces(WS)
    # The server starts the run, then the connection drops before the answer: an unknown outcome for the client.
    env.sim.set_faults(WS, WorkspaceFaults(requests_per_second=None, faults=(
        Fault("drop", kinds=frozenset({"create_eval_run"})),)))
    result = materialize(env, TICK)
    sim = simulated(env)
    posts = env.sim.stats(WS).by_kind["create_eval_run"]
    assert posts == len(sim) == len({r['space_id'] for r in sim.values()})  # one POST per space, none replayed
    meta = result.asset_materializations_for_node(EVAL_ASSET)[0].metadata
    assert meta["runs_start_failed"].value == len(sim) and meta["runs_started"].value == 0
    stored = runs(env)
    assert set(stored) == set(sim) and not any(r["ours"] for r in stored.values())  # found by the listing
    env.sim.set_faults(WS, WorkspaceFaults(requests_per_second=None))
    materialize(env, TICK + dt.timedelta(minutes=30))  # the found runs are in progress: no second run
    assert len(simulated(env)) == len(sim) and env.sim.stats(WS).by_kind["create_eval_run"] == posts


def test_a_failed_evaluation_is_stored_final_without_accuracy(api_env_factory: Callable[..., ApiEnv]) -> None:
    clock = Clock(TICK + dt.timedelta(minutes=1))
    env = eval_env(api_env_factory, clock)
    set_eval_timing(env.sim.app(WS).state, EvalTiming(start_delay_s=5, seconds_per_question=10, failure_rate=1.0))
    env.refresh_spaces(WS)
    materialize(env, TICK)
    clock.advance(3600)
    materialize(env, TICK + dt.timedelta(hours=1))
    store = store_of(env.sim.app(WS).state)
    stored, got = runs(env), results(env)
    for rid, run in stored.items():
        assert run["status"] == "EVALUATION_FAILED" and run["final"] and run["accuracy"] is None
        assert run["done"] == store.runs[rid].fails_after == run["results"] < run["questions"]
    assert len(got) == sum(r["done"] for r in stored.values())


def test_simulated_eval_endpoints_page_and_answer_databricks_errors(api_env_factory: Callable[..., ApiEnv]) -> None:
    clock = Clock(TICK)
    env = eval_env(api_env_factory, clock, ingest=False)
    client = GenieResource.from_settings(env.settings).client(WS)
    space = max((s for s in env.scenario.spaces if s.workspace_id == WS), key=lambda s: len(benchmark_questions(s)))
    started = []
    for _ in range(5):
        started.append(client.start_eval_run(space.space_id))
        clock.advance(1)
    assert all(r["eval_run_status"] == "NOT_STARTED" and r["num_done"] == 0 for r in started)
    first = client.request("GET", f"/api/2.0/genie/spaces/{space.space_id}/eval-runs", {"page_size": 2})
    assert len(first["eval_runs"]) == 2 and first["next_page_token"]
    listed = list(client.list_eval_runs(space.space_id, page_size=2))  # three pages, newest first
    assert [r["eval_run_id"] for r in listed] == [r["eval_run_id"] for r in reversed(started)]
    clock.advance(3600)
    done = client.get_eval_run(space.space_id, started[0]["eval_run_id"])
    n = len(benchmark_questions(space))
    assert done["eval_run_status"] == "DONE" and done["num_done"] == done["num_questions"] == n
    items = list(client.list_eval_results(space.space_id, done["eval_run_id"], page_size=1))
    assert len({i["result_id"] for i in items}) == n
    assert {i["benchmark_question_id"] for i in items} == {q["id"] for q in benchmark_questions(space)}
    details = client.get_eval_result(space.space_id, done["eval_run_id"], items[0]["result_id"])
    assert details["assessment"] in ("GOOD", "BAD", "NEEDS_REVIEW")
    assert done["num_correct"] == sum(client.get_eval_result(space.space_id, done["eval_run_id"], i["result_id"])
                                      ["assessment"] == "GOOD" for i in items)

    def error(path: str, method: str = "GET") -> GenieApiError:
        with pytest.raises(GenieApiError) as caught:
            client.request(method, "/api/2.0/genie/spaces/" + path, body={} if method == "POST" else None,
                           idempotent=method != "POST")
        return caught.value

    unknown = "0" * 32
    e = error(f"{unknown}/eval-runs")
    assert (e.http_status, e.error_code, e.message) == (404, "RESOURCE_DOES_NOT_EXIST", f"Genie space {unknown} does not exist.")
    e = error(f"{space.space_id}/eval-runs/{unknown}")
    assert (e.http_status, e.error_code) == (404, "RESOURCE_DOES_NOT_EXIST") and unknown in e.message
    e = error(f"{space.space_id}/eval-runs/{done['eval_run_id']}/results/{unknown}")
    assert (e.http_status, e.error_code) == (404, "RESOURCE_DOES_NOT_EXIST")
    e = error(f"{space.space_id}/eval-runs/not-an-id")
    assert (e.http_status, e.error_code) == (400, "INVALID_PARAMETER_VALUE")
    space.serialized_space["benchmarks"] = {"questions": []}
    e = error(f"{space.space_id}/eval-runs", "POST")
    assert (e.http_status, e.error_code) == (400, "INVALID_PARAMETER_VALUE") and "no benchmark questions" in e.message
    client.close()


def test_eval_schedules_follow_the_settings(api_env_factory: Callable[..., ApiEnv]) -> None:
    other = "f" * 32
    env = eval_env(api_env_factory, Clock(TICK), ingest=False, spaces={other: "0 6 * * *", "e" * 32: None},
                   collect_cron=None)
    schedules = {s.name: s.cron_schedule for s in build_eval_schedules(env.settings)}
    assert schedules == {EVAL_SCHEDULE: "0 5 * * 1", f"{EVAL_SCHEDULE}_2": "0 6 * * *"}
    assert env.settings.evals is not None and env.settings.evals.cron_for("e" * 32) is None
    with dg.instance_for_test() as instance, dg.build_schedule_context(
            instance=instance, scheduled_execution_time=TICK, repository_def=env.defs.get_repository_def()) as ctx:
        requests = env.defs.resolve_schedule_def(EVAL_SCHEDULE).evaluate_tick(ctx).run_requests or []
        collect = build_eval_schedules(env.settings.model_copy(update={"evals": env.settings.evals.model_copy(
            update={"collect_cron": "*/30 * * * *"})}))[-1]
        assert collect.name == EVAL_COLLECT_SCHEDULE
        assert collect.evaluate_tick(ctx).skip_message == "no eval run in progress"  # nothing materialized there
    assert [(r.partition_key, r.tags[AS_OF_TAG]) for r in requests] == [(w, TICK.isoformat()) for w in WORKSPACES]
    due = evals.due_spaces({other: 3, "a" * 32: 2, "e" * 32: 1, "b" * 32: 0}, {}, env.settings.evals, TICK)
    assert due == ["a" * 32, other]  # never evaluated and benchmarks defined; the null cron and no benchmarks never


def test_results_that_cannot_be_read_are_read_again_on_the_next_pass(api_env_factory: Callable[..., ApiEnv]) -> None:
    """A broken answer while reading a finished run's results (malformed JSON, on every attempt) costs that run's
    results for this pass only: the pass still stores every run, says how many result reads failed, and the next pass
    reads them; nothing is lost and nothing is stored twice."""
    clock = Clock(TICK + dt.timedelta(minutes=1))
    # One attempt per request: the broken answers are not retried within the pass (no back-off to wait through).
    env = api_env_factory(config=SimConfig(clock=clock, faults=WorkspaceFaults(requests_per_second=None)),
                          evals={"cron": "0 5 * * 1"}, api={"max_attempts": 1})
    set_eval_timing(env.sim.app(WS).state, TIMING)
    env.run_range(WS, env.scenario.start_date, env.last_day, "genie_ingest")  # the spaces seen
    env.refresh_spaces(WS)
    materialize(env, TICK)  # runs started
    clock.advance(3600)  # and finished
    env.sim.set_faults(WS, WorkspaceFaults(requests_per_second=None, faults=(
        Fault("malformed", kinds=frozenset({"get_eval_result"})),)))
    broken = materialize(env, TICK + dt.timedelta(hours=1))
    meta = broken.asset_materializations_for_node(EVAL_ASSET)[0].metadata
    stored = runs(env)
    assert stored and all(r["final"] for r in stored.values())
    assert meta["result_errors"].value == len(stored) and results(env) == {}
    assert all(r["results"] == 0 for r in stored.values())
    env.sim.set_faults(WS, WorkspaceFaults(requests_per_second=None))
    materialize(env, TICK + dt.timedelta(hours=1, minutes=30))
    got, stored = results(env), runs(env)
    assert len(got) == sum(r["done"] for r in stored.values()) > 0
    assert all(r["results"] == r["done"] for r in stored.values())
    materialize(env, TICK + dt.timedelta(hours=2))  # nothing left to read: the same rows
    assert results(env) == got
