"""The sensor beyond its watch window, and the sensor parts of the fetch retry.

- Gaps: days since the history start whose source audit log has more aibiGenie rows than bronze (a scheduler
  down longer than the window, a workspace added without its initial load, rows arriving after their day left
  the window) are found by ONE grouped statement, at most once per clock hour, requested as runs over blocks of
  days, and said so; bronze holding more rows than the source (retention) is not a gap. On both back ends.
- The fetch back-off: the exact waits per attempt, and no fetch run before it is due.
- Messages a run listed but never fetched are fetched by the run the next tick requests.

Every tick's clock is set by the test (no wall-clock timing); runs are executed as the daemon would launch them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import dagster as dg
import pytest

from genie_obs_dagster.automation import (
    FETCH_ASSETS,
    INGEST_JOB,
    REASON_TAG,
    TRIGGER_TAG,
    WORKSPACE_TAG,
    AuditPartition,
    FetchGroup,
    Observation,
    SensorCursor,
    blocks_of_days,
    day_ranges,
    plan_runs,
)
from genie_obs_dagster.resources import WarehouseResource
from genie_obs_dagster.sandbox.system_tables import load_system_tables
from genie_obs_dagster.sensors import build_audit_sensor
from genie_obs_dagster.settings import AutomationSettings
from genie_obs_dagster.warehouse.databricks_backend import DatabricksWarehouse
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

from .conftest import PRINCIPAL, WORKSPACES, ApiEnv, make_scenario

UTC = dt.timezone.utc
FIRST = dt.date(2026, 3, 2)  # the history start
LAST = FIRST + dt.timedelta(days=29)  # the sensor's "today": the history start is 30 days back
WINDOW_START = LAST - dt.timedelta(days=2)  # automation.lookback_days = 3
BEFORE = WINDOW_START - dt.timedelta(days=1)  # the last day before the watch window
NOON = dt.datetime.combine(LAST, dt.time(12, 5), UTC)
GAP_MARK = "workspace_bronze_days"  # a column only sql/automation/audit_gaps.sql selects
SOURCE_ROWS = ("SELECT event_date, COUNT(*) FROM system.access.audit WHERE service_name = 'aibiGenie' "
               "AND workspace_id = :w AND event_date BETWEEN :a AND :b AND NOT COALESCE(user_identity.email = :p, FALSE) "
               "GROUP BY event_date")


class Ticker:
    """The sensor of an env with a clock the test sets. ``tick()`` evaluates it as the daemon would (keeping
    its cursor) and records the warehouse queries of the tick, the SQL statements sent to the simulated
    warehouse (Databricks back end) and what the tick logged."""

    def __init__(self, env: ApiEnv, monkeypatch: pytest.MonkeyPatch, now: dt.datetime):
        self.env, self.now = env, now
        self.sensor = build_audit_sensor(env.settings, clock=lambda: self.now)
        self.cursor: str | None = None
        self.skip_message: str | None = None
        self.queries: list[str] = []
        self.logged: list[str] = []
        self.statements: list[str] = []
        self._recording = False
        for cls in (DuckDBWarehouse, DatabricksWarehouse):
            original = cls.query

            def counted(wh, sql_name, params=None, _original=original):  # type: ignore[no-untyped-def]
                if self._recording:
                    self.queries.append(sql_name)
                return _original(wh, sql_name, params)

            monkeypatch.setattr(cls, "query", counted)

    def tick(self) -> list[dg.RunRequest]:
        logged = self.logged = []

        class Keep(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                logged.append(record.getMessage())

        self.queries = []
        before = len(self.env.sim.sql_statements())
        self._recording = True
        try:
            with dg.build_sensor_context(instance=self.env.instance, cursor=self.cursor, definitions=self.env.defs,
                                         resources={"warehouse": WarehouseResource.from_settings(self.env.settings)},
                                         ) as ctx:
                ctx.log.addHandler(Keep())
                data = self.sensor.evaluate_tick(ctx)
        finally:
            self._recording = False
        self.statements = [s.statement for s in self.env.sim.sql_statements()[before:]]
        self.cursor, self.skip_message = data.cursor, data.skip_message
        return list(data.run_requests or [])

    def gap_statements(self) -> int:
        """Gap statements of the last tick: the warehouse queries on the embedded back end, the statements
        the simulated SQL warehouse received on Databricks."""
        if self.env.settings.warehouse.backend == "databricks":
            assert self.queries.count("automation/audit_gaps") == sum(GAP_MARK in s for s in self.statements)
            return sum(GAP_MARK in s for s in self.statements)
        return self.queries.count("automation/audit_gaps")

    def run(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        job = self.env.defs.resolve_job_def(INGEST_JOB)
        result = job.execute_in_process(instance=self.env.instance, tags=request.tags, raise_on_error=False,
                                        asset_selection=request.asset_selection)
        assert result.success
        return result


def shape(requests: list[dg.RunRequest]) -> list[tuple[str, str, str, str, bool]]:
    """(workspace, first day, last day, trigger, fetch only) of each request, in order."""
    return [(r.tags[WORKSPACE_TAG], r.tags["dagster/asset_partition_range_start"].split("|")[0],
             r.tags["dagster/asset_partition_range_end"].split("|")[0], r.tags[TRIGGER_TAG],
             r.asset_selection == list(FETCH_ASSETS)) for r in requests]


def source_days(env: ApiEnv, ws: str, a: dt.date, b: dt.date) -> dict[dt.date, int]:
    return {r[0]: r[1] for r in env.rows(SOURCE_ROWS, {"w": ws, "a": a, "b": b, "p": PRINCIPAL})}


def bronze_rows(env: ApiEnv, ws: str, day: dt.date) -> int:
    return env.rows("SELECT COUNT(*) FROM main.genie_analytics.genie_audit_events WHERE workspace_id = :w "
                    "AND event_date = :d AND NOT is_ingestion_principal", {"w": ws, "d": day})[0][0]


def people_rows(env: ApiEnv, ws: str, day: dt.date) -> list[str]:
    """Event ids of a person's (not the ingestion principal's) aibiGenie rows of one workspace and day."""
    return [e["event_id"] for e in env.scenario.audit_events
            if e["workspace_id"] == ws and e["event_date"] == day and e["service_name"] == "aibiGenie"
            and (e.get("user_identity") or {}).get("email") != PRINCIPAL]


def delete_source_rows(env: ApiEnv, event_ids: list[str]) -> None:
    for event_id in event_ids:
        env.rows("DELETE FROM system.access.audit WHERE event_id = :e", {"e": event_id})


# -- gaps before the watch window, against the warehouse (both back ends) ----------------------------------
@pytest.mark.parametrize("backend", ["duckdb", "databricks"])
def test_gaps_before_the_watch_window_are_found_by_one_statement_requested_and_said(
        api_env_factory: Callable[..., ApiEnv], monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    """History 30 days back, lookback 3 days. Workspace 0 has only its last 3 days in bronze, workspace 1
    nothing at all (added without its initial load). One tick requests the missing days, says so, and costs
    one gap statement; once the runs are done the next check is all in sync. Later: rows of the day just
    before the window arrive late (requested the same way), and the source loses rows of an old day to
    retention (bronze holding more rows is not a gap, not requested)."""
    scenario = make_scenario(start_date=FIRST, days=30, questions_per_day=3)
    env = api_env_factory(scenario, backend=backend, history={"start_date": FIRST.isoformat()},
                          automation={"lookback_days": 3})
    late = people_rows(env, WORKSPACES[0], BEFORE)[:2]
    assert len(late) == 2
    delete_source_rows(env, late)  # held back: delivered after their day left the window
    env.run_range(WORKSPACES[0], WINDOW_START, LAST, INGEST_JOB)
    ticker = Ticker(env, monkeypatch, NOON)

    first = ticker.tick()
    missing = {ws: source_days(env, ws, FIRST, BEFORE) for ws in WORKSPACES}
    assert all(len(days) >= 20 for days in missing.values())  # most days have questions
    assert ticker.gap_statements() == 1  # one grouped statement for the 27 days of both workspaces
    assert sorted(ticker.queries) == ["automation/audit_gaps", "automation/audit_partition_state",
                                      "automation/messages_due_for_fetch"]
    # Workspace 0: one run over its missing history (its window is current); workspace 1: its history and its
    # window are one contiguous block, so one run.
    assert shape(first) == [
        (WORKSPACES[0], str(min(missing[WORKSPACES[0]])), str(max(missing[WORKSPACES[0]])), "audit-gap", False),
        (WORKSPACES[1], str(FIRST), str(LAST), "audit", False),
    ]
    assert f"audit rows missing from bronze on {day_ranges(missing[WORKSPACES[0]])} (before the watch window)" in \
        first[0].tags[REASON_TAG]
    said = [m for m in ticker.logged if m.startswith("found ")]
    assert len(said) == 1, ticker.logged
    n = sum(len(days) for days in missing.values())
    assert said[0].startswith(f"found {n} day(s) before the watch window with audit rows missing from bronze: "
                              f"workspace {WORKSPACES[0]} {day_ranges(missing[WORKSPACES[0]])} (its history was "
                              "never loaded")
    assert f"workspace {WORKSPACES[1]} {day_ranges(missing[WORKSPACES[1]])} (its history was never loaded" in said[0]
    assert "requested its history" in said[0]

    for request in first:
        ticker.run(request)
    ticker.now = NOON + dt.timedelta(hours=1)  # the next hourly check
    assert ticker.tick() == []
    assert ticker.gap_statements() == 1
    assert ticker.skip_message and f"no audit rows missing from bronze in {FIRST}..{BEFORE}" in ticker.skip_message
    assert "match the source" in ticker.skip_message

    # The held rows arrive; the source loses rows of an old day of workspace 1 to retention.
    assert load_system_tables(env.wh, env.scenario) >= 2
    old = FIRST + dt.timedelta(days=9)
    expired = people_rows(env, WORKSPACES[1], old)[:1]
    assert expired
    delete_source_rows(env, expired)
    assert bronze_rows(env, WORKSPACES[1], old) > source_days(env, WORKSPACES[1], old, old)[old]
    ticker.now += dt.timedelta(minutes=10)  # same hour: the gap check is not due, nothing else changed
    assert ticker.tick() == []
    assert ticker.gap_statements() == 0
    assert "last checked for missing audit rows at" in (ticker.skip_message or "")
    ticker.now = NOON + dt.timedelta(hours=2)
    again = ticker.tick()
    assert ticker.gap_statements() == 1
    assert shape(again) == [(WORKSPACES[0], str(BEFORE), str(BEFORE), "audit-gap", False)]  # not workspace 1's old day
    assert [m for m in ticker.logged if m.startswith("found ")] == [
        f"found 1 day(s) before the watch window with audit rows missing from bronze: workspace {WORKSPACES[0]} "
        f"{BEFORE} (requested)"]
    ticker.run(again[0])
    assert bronze_rows(env, WORKSPACES[0], BEFORE) == source_days(env, WORKSPACES[0], BEFORE, BEFORE)[BEFORE]
    ticker.now = NOON + dt.timedelta(hours=3)
    assert ticker.tick() == []
    assert f"no audit rows missing from bronze in {FIRST}..{BEFORE}" in (ticker.skip_message or "")


# -- gaps: the planner (pure) --------------------------------------------------------------------------------
TODAY = LAST
NOW = NOON


def _p(ws: str, day: dt.date, source: int, bronze: int) -> AuditPartition:
    t = dt.datetime.combine(day, dt.time(10), UTC)
    return AuditPartition(ws, day, source, t if source else None, bronze, t if bronze else None)


def test_a_gap_long_ago_and_today_make_two_short_runs_not_one_long_one() -> None:
    auto = AutomationSettings(lookback_days=3)
    window = (WINDOW_START, TODAY)
    old = [TODAY - dt.timedelta(days=80), TODAY - dt.timedelta(days=79)]
    obs = Observation(window, (_p("1", TODAY, 5, 2), _p("1", WINDOW_START, 4, 4)), (),
                      gaps=tuple(_p("1", d, 9, 0) for d in old), gap_range=(TODAY - dt.timedelta(days=90), BEFORE),
                      gaps_checked=True)
    plan = plan_runs(obs, SensorCursor(), set(), NOW, auto)
    assert [(r.start, r.end, r.trigger) for r in plan.runs] == [(TODAY, TODAY, "audit"), (old[0], old[1], "audit-gap")]
    assert plan.runs[1].gap_days == tuple(old) and plan.runs[1].audit_days == ()
    assert "audit rows missing from bronze on " + f"{old[0]}..{old[1]} (before the watch window)" in plan.runs[1].describe()
    again = plan_runs(obs, SensorCursor(), set(), NOW, auto)
    assert [r.run_key for r in again.runs] == [r.run_key for r in plan.runs]  # idempotent
    assert len({r.run_key for r in plan.runs}) == 2
    assert plan.gap_summary() == (f"found 2 day(s) before the watch window with audit rows missing from bronze: "
                                  f"workspace 1 {old[0]}..{old[1]} (requested)")
    assert plan.in_sync == 1
    # The runs of a workspace are in progress (queued one after the other): nothing more until all have ended.
    waiting = plan_runs(obs, SensorCursor.load(plan.cursor.dump()), {"1"}, NOW, auto)
    assert waiting.runs == [] and "(waiting for its runs in progress" in (waiting.gap_summary() or "")


def test_days_needing_work_become_runs_over_blocks() -> None:
    d = [FIRST + dt.timedelta(days=i) for i in range(120)]
    assert blocks_of_days([d[0], d[1], d[8], d[16]]) == [[d[0], d[1], d[8]], [d[16]]]  # 6 idle days: one run; 7: two
    # Never more than 4 runs per workspace: the closest blocks are merged first.
    spread = [d[0], d[10], d[30], d[31], d[60], d[100]]
    assert blocks_of_days(spread) == [[d[0], d[10]], [d[30], d[31]], [d[60]], [d[100]]]
    assert day_ranges([d[3], d[1], d[2], d[7]]) == f"{d[1]}..{d[3]}, {d[7]}"


def test_gap_days_count_attempts_and_are_remembered_between_hourly_checks() -> None:
    auto = AutomationSettings(lookback_days=3, max_attempts=2)
    window = (WINDOW_START, TODAY)
    gap = _p("1", FIRST, 7, 3)
    checked = Observation(window, (), (), gaps=(gap,), gap_range=(FIRST, BEFORE), gaps_checked=True)
    skipped = Observation(window, (), (), gap_range=(FIRST, BEFORE), gaps_checked=False)
    cursor = SensorCursor()
    assert cursor.gap_check_due(NOW)
    plan = plan_runs(checked, cursor, set(), NOW, auto)
    assert [(r.start, r.trigger) for r in plan.runs] == [(FIRST, "audit-gap")]
    cursor = SensorCursor.load(plan.cursor.dump())
    # Later ticks of the same clock hour do not check; the open gap stays in the cursor.
    assert not cursor.gap_check_due(NOW + dt.timedelta(minutes=50))
    assert cursor.gap_check_due(dt.datetime.combine(TODAY, dt.time(13), UTC))
    plan = plan_runs(skipped, cursor, set(), NOW + dt.timedelta(minutes=1), auto)
    assert plan.runs == [] and plan.cursor.audit == cursor.audit and plan.cursor.gaps_at == cursor.gaps_at
    cursor = SensorCursor.load(plan.cursor.dump())
    # The run failed: the next check asks once more, then stops asking and says so.
    plan = plan_runs(checked, cursor, set(), NOW + dt.timedelta(hours=1), auto)
    assert len(plan.runs) == 1
    cursor = SensorCursor.load(plan.cursor.dump())
    plan = plan_runs(checked, cursor, set(), NOW + dt.timedelta(hours=2), auto)
    assert plan.runs == [] and plan.gave_up == [f"workspace 1 {FIRST} (audit)"]
    assert "(not requested: asked max_attempts times)" in (plan.gap_summary() or "")
    # A cursor entry for a day before the history start (history.lookback_days moved it) is dropped.
    stale = SensorCursor(audit={"1": {str(FIRST - dt.timedelta(days=1)): ["1@0", 1]}})
    assert plan_runs(skipped, stale, set(), NOW, auto).cursor.audit == {}


# -- fetch back-off (pure) ------------------------------------------------------------------------------------
def test_fetch_retry_waits_double_per_attempt_up_to_the_cap() -> None:
    auto = AutomationSettings(retry_after_s=100, max_retry_interval_s=1000)
    last = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    waits = [(FetchGroup("1", FIRST, "pending", n, 1, last).due_at(auto) - last).total_seconds()  # type: ignore[operator]
             for n in range(1, 9)]
    assert waits == [100, 200, 400, 800, 1000, 1000, 1000, 1000]
    assert waits == [min(auto.retry_after_s * 2 ** (n - 1), auto.max_retry_interval_s) for n in range(1, 9)]
    assert FetchGroup("1", FIRST, "unfetched", 0, 1, None).due_at(auto) is None  # never attempted: due now


@pytest.mark.parametrize("attempts, wait_s", [(1, 100), (3, 400), (4, 800), (5, 1000), (9, 1000)])
def test_no_fetch_run_before_it_is_due_and_one_once_it_is(attempts: int, wait_s: int) -> None:
    auto = AutomationSettings(retry_after_s=100, max_retry_interval_s=1000)
    last = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    obs = Observation((FIRST, FIRST), (), (FetchGroup("1", FIRST, "retryable", attempts, 4, last),))
    early = plan_runs(obs, SensorCursor(), set(), last + dt.timedelta(seconds=wait_s - 1), auto)
    assert early.runs == [] and early.next_retry_at == last + dt.timedelta(seconds=wait_s)
    assert f"next message fetch retry due at {last + dt.timedelta(seconds=wait_s):%Y-%m-%d %H:%M} UTC" in \
        early.summary(obs.window)
    due = plan_runs(obs, SensorCursor(), set(), last + dt.timedelta(seconds=wait_s), auto)
    assert [(r.workspace_id, r.start, r.end, r.fetch_only, r.trigger) for r in due.runs] == \
        [("1", FIRST, FIRST, True, "fetch-retry")]
    assert due.runs[0].run_request().asset_selection == list(FETCH_ASSETS)


# -- messages never fetched ------------------------------------------------------------------------------------
def test_messages_a_run_never_fetched_are_fetched_by_the_run_the_next_tick_requests(
        api_env_factory: Callable[..., ApiEnv], monkeypatch: pytest.MonkeyPatch) -> None:
    env = api_env_factory()
    env.run_all("genie_audit_layer")  # messages listed in silver, none fetched (as if the fetch step died)
    truth = env.scenario.expected_messages_to_fetch()
    assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.message_details") == [(0,)]
    ticker = Ticker(env, monkeypatch, dt.datetime.combine(env.last_day + dt.timedelta(days=1), dt.time(9), UTC))
    requests = ticker.tick()
    days = {ws: sorted({t.first_seen_date for k, t in truth.items() if k[0] == ws}) for ws in WORKSPACES}
    assert shape(requests) == [(ws, str(days[ws][0]), str(days[ws][-1]), "fetch-retry", True) for ws in WORKSPACES]
    for request in requests:
        ticker.run(request)
    got = {(r[0], r[1]): r[2:] for r in env.rows(
        "SELECT workspace_id, message_id, status, is_final, first_seen_date FROM main.genie_analytics.message_details")}
    final = {m.key: m.final_status for m in env.scenario.messages}
    assert got == {k: (final[k], True, t.first_seen_date) for k, t in truth.items()}
    assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.message_fetch_errors") == [(0,)]
    # each listed message fetched once (by its own GET or in its conversation's listing)
    assert env.rows("SELECT COUNT(*) FROM main.genie_analytics.message_details WHERE fetch_attempts <> 1") == [(0,)]
    ticker.now += dt.timedelta(minutes=1)
    assert ticker.tick() == []
    assert "match the source" in (ticker.skip_message or "")



def test_messages_unfetched_since_before_the_window_are_fetched_after_an_outage_longer_than_it(
        api_env_factory: Callable[..., ApiEnv], monkeypatch: pytest.MonkeyPatch) -> None:
    """The fetch step never ran for a month (a Genie API outage, a broken credential): the hourly check looks for
    messages due since the history start, not only in the 3-day window, and the runs it requests fetch them all."""
    scenario = make_scenario(start_date=FIRST, days=30, questions_per_day=2)
    env = api_env_factory(scenario, history={"start_date": FIRST.isoformat()}, automation={"lookback_days": 3})
    env.run_all("genie_audit_layer")  # every day's messages listed, none fetched
    truth = env.scenario.expected_messages_to_fetch()
    assert any(t.first_seen_date < WINDOW_START for t in truth.values())
    ticker = Ticker(env, monkeypatch, NOON)
    for request in ticker.tick():
        ticker.run(request)
    got = {(r[0], r[1]) for r in env.rows("SELECT workspace_id, message_id FROM main.genie_analytics.message_details")}
    assert got == set(truth)


# -- gaps: the same filters as bronze ------------------------------------------------------------------------
def test_the_gap_check_filters_exactly_as_the_window_check() -> None:
    """audit_gaps.sql repeats audit_partition_state.sql's source and bronze sides (bronze's own filters):
    they must not drift apart, or allow-listed workspaces show gaps forever."""
    from sqlglot import exp

    from genie_obs_dagster.warehouse import sql as sqlmod

    def ctes(name: str) -> dict[str, str]:
        return {c.alias: c.this.sql(dialect="databricks") for c in sqlmod.parse_file(name)[0].find_all(exp.CTE)}

    window, gaps = ctes("automation/audit_partition_state"), ctes("automation/audit_gaps")
    assert window["source"] == gaps["source"] and window["bronze"] == gaps["bronze"]


def test_an_allow_list_makes_no_gap_before_the_window(api_env_factory: Callable[..., ApiEnv],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Bronze keeps fewer rows than the source when a workspace has a space allow list: not a gap."""
    scenario = make_scenario(start_date=FIRST, days=10, questions_per_day=3)
    keep = next(s.space_id for s in scenario.spaces if s.workspace_id == WORKSPACES[0])
    last = FIRST + dt.timedelta(days=9)
    env = api_env_factory(scenario, space_ids={WORKSPACES[0]: [keep]}, history={"start_date": FIRST.isoformat()},
                          automation={"lookback_days": 3})
    env.ingest_all()
    ticker = Ticker(env, monkeypatch, dt.datetime.combine(last, dt.time(12), UTC))
    assert ticker.tick() == []
    assert ticker.gap_statements() == 1
    assert f"no audit rows missing from bronze in {FIRST}..{last - dt.timedelta(days=3)}" in (ticker.skip_message or "")
