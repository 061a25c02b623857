"""Dashboard dataset rows synthesized at any scale (for ``bench/bench_dashboard.py`` and the page-size test), in the
shape ``datasets.load`` returns, without running ingestion.

Distributions follow the sandbox scenario and what real Genie spaces look like: workspace sizes vary (log-normal),
spaces within a workspace are Zipf-like (a few busy ones, a long tail, many space-days without a question),
weekends are quiet; 87 % of answers complete, 9 % fail, 4 % are cancelled; 8 % are rated positive, 3 % negative;
about three quarters run SQL with log-normal durations (median about 1.5 s). Texts are built from per-space schemas
(tables and columns reused across a space's questions, as in real spaces) with varying entities, dates and
literals, so that they compress like real prompts and SQL rather than like repeated templates.

The space lifecycle follows the defaults of the product: a space has 1 to 5 configuration versions over the year
(``config_change_impact`` holds each change with the space's outcomes in the 7 days before and after it, summed from
its daily rows), and benchmarks run weekly (the default ``evals:`` cron, Mondays 05:00 UTC) for the spaces with
benchmark questions of the workspaces that turned evals on (80 %, each from some day of the year on); accuracy
drifts per space and 4 % of runs fail (not DONE: not in ``eval_accuracy``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections import defaultdict
from typing import Any

Rows = list[dict[str, Any]]

NOUNS = ("revenue", "orders", "customers", "churn", "tickets", "shipments", "inventory", "margin", "claims", "leads",
         "sessions", "refunds", "invoices", "headcount", "spend", "returns", "bookings", "latency", "defects", "trials")
DIMS = ("region", "country", "product line", "channel", "segment", "store", "sales rep", "plan", "warehouse",
        "category", "cohort", "account tier", "carrier", "device", "team")
TIMES = ("last week", "this month", "last quarter", "year to date", "in the last 30 days", "since January",
         "by week this quarter", "compared to last year", "yesterday", "over the last 6 months")
VERBS = ("What is", "Show", "How many", "Which", "Compare", "Break down", "List the top 10", "What was the trend of",
         "Why did", "Plot")
ERRORS = (("SQL_EXECUTION_EXCEPTION", 0.45), ("GENERIC_CHAT_COMPLETION_EXCEPTION", 0.2), ("TIMEOUT", 0.12),
          ("NO_QUERY_TO_VISUALIZE_EXCEPTION", 0.13), ("INVALID_SQL_MULTIPLE_STATEMENTS_EXCEPTION", 0.1))
BUCKETS = ((250, "< 0.25 s"), (1000, "0.25-1 s"), (2000, "1-2 s"), (5000, "2-5 s"), (10000, "5-10 s"),
           (30000, "10-30 s"), (None, ">= 30 s"))


class _Space:
    def __init__(self, rng: random.Random, ws: str, i: int) -> None:
        self.space_id = f"{rng.getrandbits(128):032x}"
        self.benchmarks = 0
        self.title = f"{rng.choice(NOUNS).title()} {rng.choice(('analytics', 'insights', 'ops', 'explorer', 'assistant'))}" + (f" {i}" if i > 3 else "")
        schema = f"{rng.choice(('sales', 'finance', 'ops', 'support', 'marketing', 'hr'))}_{rng.randint(1, 99)}"
        self.tables = [f"prod.{schema}.{rng.choice(NOUNS)}_{rng.choice(('fact', 'dim', 'daily', 'raw', 'agg'))}{k}"
                       for k in range(rng.randint(3, 10))]
        self.columns = {t: [f"{rng.choice(NOUNS)}_{rng.choice(('id', 'amount', 'date', 'count', 'name', 'type', 'status', 'ts'))}"
                            for _ in range(rng.randint(6, 30))] for t in self.tables}


def _question(rng: random.Random) -> str:
    q = f"{rng.choice(VERBS)} {rng.choice(NOUNS)} by {rng.choice(DIMS)} {rng.choice(TIMES)}"
    if rng.random() < 0.4:
        q += f" for {rng.choice(('EMEA', 'APAC', 'NA', 'LATAM'))} {rng.choice(DIMS)} {rng.randint(1, 5000)}"
    if rng.random() < 0.2:
        q += f", excluding {rng.choice(NOUNS)} under {rng.randint(10, 10000)}"
    return q + "?"


def _sql(rng: random.Random, sp: _Space) -> str:  # noqa: S608 (synthetic text, never run)
    t = rng.choice(sp.tables)
    cols = rng.sample(sp.columns[t], k=min(len(sp.columns[t]), rng.randint(2, 6)))
    where = " AND ".join(f"{c} {rng.choice(('>=', '=', '<', 'IN'))} " + (
        f"'{dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 500))}'" if rng.random() < 0.5
        else f"({rng.randint(1, 999)}, {rng.randint(1, 999)})" if rng.random() < 0.3 else str(rng.randint(0, 100000)))
        for c in rng.sample(sp.columns[t], k=rng.randint(1, 3)))
    sql = (f"SELECT\n  {cols[0]},\n  " + ",\n  ".join(f"{rng.choice(('SUM', 'COUNT', 'AVG', 'MAX'))}({c}) AS {c}_{rng.choice(('total', 'n', 'avg', 'max'))}"
                                                   for c in cols[1:]) + f"\nFROM\n  {t}\nWHERE\n  {where}\nGROUP BY\n  {cols[0]}\n"
           f"ORDER BY\n  2 DESC\nLIMIT {rng.choice((10, 20, 50, 100, 1000))}")
    if rng.random() < 0.35:
        j = rng.choice(sp.tables)
        picked = ", ".join(rng.sample(sp.columns[j], k=min(3, len(sp.columns[j]))))
        cte = "WITH base AS (\n  SELECT " + picked + "\n  FROM " + j + "\n"  # noqa: S608 (synthetic text, never run)
        sql = cte + f"  WHERE {rng.choice(sp.columns[j])} >= date_sub(current_date(), {rng.randint(7, 400)})\n)\n" + sql
    return sql


def _describe(rng: random.Random, q: str) -> str:
    return (f"This query {rng.choice(('calculates', 'lists', 'compares', 'summarizes', 'aggregates'))} "
            f"{rng.choice(NOUNS)} grouped by {rng.choice(DIMS)}, filtered to {rng.choice(TIMES)}"
            + (f", and ranks the results by {rng.choice(NOUNS)}" if rng.random() < 0.5 else "") + f" to answer: {q[:60]}")


def synthesize(workspaces: int = 50, spaces: int = 10, days: int = 365, seed: int = 7,
               end: dt.date = dt.date(2026, 6, 30), questions_per_workspace_day: float = 40.0) -> dict[str, Rows]:
    """Every dashboard dataset at ``workspaces x spaces x days`` (rows as ``datasets.load`` returns them)."""
    rng = random.Random(seed)
    life = random.Random(seed + 1)  # the lifecycle (changes, eval runs) draws apart: the other datasets stay as they were
    start = end - dt.timedelta(days=days - 1)
    day_list = [start + dt.timedelta(days=i) for i in range(days)]
    now = dt.datetime.combine(end, dt.time(18, 0), dt.timezone.utc)
    out: dict[str, Rows] = defaultdict(list)
    adoption_all: dict[dt.date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    detail: dict[tuple[str, str, str], tuple[_Space, list[str], list[int]]] = {}
    n_users: dict[str, int] = {}
    for w in range(workspaces):
        # evals turned on for this workspace: never (20 %), all year (30 %), or from some day of the year on
        evals_from = None if life.random() < 0.2 else start if life.random() < 0.375 else start + dt.timedelta(days=life.randint(0, days - 1))
        ws, ws_name = str(1000000000000000 + 7919 * w * 104729), f"{rng.choice(('acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark'))}-{rng.choice(('prod', 'analytics', 'emea', 'us', 'apac'))}-{w}"
        out["workspaces"].append({"workspace_id": ws, "workspace_name": ws_name})
        size = questions_per_workspace_day * math.exp(rng.gauss(0, 0.6)) / math.exp(0.18)
        sps = [_Space(rng, ws, i) for i in range(spaces)]
        weights = [1 / (i + 1) ** 1.1 for i in range(spaces)]
        norm = sum(weights)
        users = [f"{rng.choice(('ana', 'bo', 'chen', 'dev', 'eli', 'fay', 'gus', 'hana', 'ivan', 'jo'))}.{rng.choice(('smith', 'lee', 'garcia', 'khan', 'mueller', 'rossi', 'kim'))}{k}@{ws_name.split('-')[0]}.com"
                 for k in range(int(20 + size * 2))]
        per_space: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        space_days: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        ws_day_q: dict[dt.date, int] = defaultdict(int)
        for sp, wt in zip(sps, weights, strict=True):
            for d in day_list:
                lam = size * wt / norm * (0.25 if d.weekday() >= 5 else 1.15)
                q = _poisson(rng, lam)
                if not q:
                    continue
                failed = _binom(rng, q, 0.09)
                cancelled = _binom(rng, q - failed, 0.04)  # never more outcomes than questions
                not_fetched = _binom(rng, q - failed - cancelled, 0.01)
                in_progress = _binom(rng, q - failed - cancelled - not_fetched, 0.2) if d == end else 0
                completed = q - failed - cancelled - not_fetched - in_progress
                conv = max(1, round(q / rng.uniform(1.6, 2.8)))
                stmts = _binom(rng, completed + failed, 0.75)
                positive = _binom(rng, q, 0.08)
                durations = [int(rng.lognormvariate(math.log(1500), 1.0)) for _ in range(stmts)]
                dur = sum(durations)
                row = {"workspace_id": ws, "workspace_name": ws_name, "space_id": sp.space_id, "space": sp.title,
                       "activity_date": d.isoformat(), "questions": q, "conversations": conv,
                       "new_conversations": _binom(rng, conv, 0.8), "askers": min(len(users), max(1, round(q / 2.5))),
                       "completed": completed, "failed": failed, "cancelled": cancelled, "in_progress": in_progress,
                       "not_fetched": not_fetched, "positive_feedback": positive,
                       "negative_feedback": _binom(rng, q - positive, 0.03), "review_requests": _binom(rng, q, 0.01),
                       "sql_statements": stmts, "failed_statements": _binom(rng, stmts, 0.04),
                       "sql_total_duration_ms": dur}
                out["daily_activity"].append(row)
                space_days[sp.space_id][row["activity_date"]] = row
                detail[(ws, sp.space_id, d.isoformat())] = (sp, users, durations)
                if stmts:
                    out["sql_reads_daily"].append({"workspace_id": ws, "space_id": sp.space_id, "activity_date": d.isoformat(),
                                                   "read_rows": stmts * rng.randint(1000, 900000),
                                                   "read_bytes": stmts * rng.randint(100000, 90000000)})
                ws_day_q[d] += q
                for k in ("questions", "conversations", "completed", "failed", "cancelled", "positive_feedback",
                          "negative_feedback", "review_requests", "sql_statements", "failed_statements"):
                    per_space[sp.space_id][k] += row[k]
                per_space[sp.space_id]["active_days"] += 1
                for _ in range(failed):
                    et = rng.choices([e for e, _ in ERRORS], [p for _, p in ERRORS])[0]
                    out["failures"].append({"workspace_id": ws, "workspace_name": ws_name, "space_id": sp.space_id,
                                            "space": sp.title, "activity_date": d.isoformat(), "error_type": et,
                                            "failures": 1, "example_error_message": f"{et}: {_question(rng)[:50]}"})
        out["failures"] = _merge_failures(out["failures"])
        ranked = sorted(sps, key=lambda s: -per_space[s.space_id]["questions"])
        for rank, sp in enumerate(ranked, 1):
            p = per_space[sp.space_id]
            fin = p["completed"] + p["failed"] + p["cancelled"]
            out["space_leaderboard"].append({
                "workspace_id": ws, "workspace_name": ws_name, "space_id": sp.space_id, "space": sp.title,
                "questions": int(p["questions"]), "conversations": int(p["conversations"]),
                "askers": min(len(users), int(p["questions"] ** 0.6) + 1), "completed": int(p["completed"]),
                "failed": int(p["failed"]), "cancelled": int(p["cancelled"]),
                "success_rate": p["completed"] / fin if fin else None, "positive_feedback": int(p["positive_feedback"]),
                "negative_feedback": int(p["negative_feedback"]), "review_requests": int(p["review_requests"]),
                "active_days": int(p["active_days"]), "first_asked_at": f"{start}T08:12:00+00:00",
                "last_asked_at": f"{end}T17:40:00+00:00", "questions_rank": rank})
            n = int(p["sql_statements"])
            out["sql_performance"].append({
                "workspace_id": ws, "workspace_name": ws_name, "space_id": sp.space_id, "space": sp.title,
                "statements": n, "statements_with_history": n, "failed_statements": int(p["failed_statements"]),
                "duration_p50_ms": 1500.0 + rng.random() * 900, "duration_p90_ms": 6000.0 + rng.random() * 9000,
                "duration_p95_ms": 12000.0 + rng.random() * 9000, "duration_avg_ms": 2500.0 + rng.random() * 900,
                "duration_max_ms": rng.randint(40000, 300000), "read_rows": n * rng.randint(1000, 900000),
                "read_bytes": n * rng.randint(100000, 90000000), "produced_rows": n * rng.randint(1, 400)})
            versions = _config(rng, out, ws, ws_name, sp, now)
            _changes(life, out, ws, ws_name, sp, versions, space_days[sp.space_id])
            _eval_runs(life, out, ws, sp, evals_from, end)
        for k, (_, name) in enumerate(BUCKETS, 1):
            out["sql_duration_histogram"].append({"workspace_id": ws, "workspace_name": ws_name, "bucket_order": k,
                                                  "bucket": name, "statements": rng.randint(0, int(size * days / 4))})
        _messages(rng, out, ws, ws_name, sps, users, now, int(sum(ws_day_q.values())))
        n_users[ws] = len(users)
        _adoption(rng, out, ws, ws_name, day_list, ws_day_q, len(users), adoption_all)
        _askers(rng, out, ws, ws_name, users, sum(ws_day_q.values()), start, end)
        listed = int(sum(ws_day_q.values()))
        out["pipeline_health"].append({
            "workspace_id": ws, "workspace_name": ws_name, "audit_events": listed * 3, "latest_audit_event_time": now.isoformat(),
            "messages_listed": listed, "messages_excluded": 0, "messages_with_details": listed - 3, "messages_missing": 3,
            "messages_api_only": rng.randint(0, 40), "messages_pending": rng.randint(0, 5), "coverage": (listed - 3) / listed if listed else None,
            "open_fetch_errors": 3, "permanent_fetch_errors": 1, "latest_fetch_time": now.isoformat(), "spaces_listed": spaces,
            "spaces_with_details": spaces, "open_space_fetch_errors": 0, "latest_space_fetch_time": now.isoformat(),
            "refreshed_at": now.isoformat()})
        out["fetch_errors"].append({"workspace_id": ws, "workspace_name": ws_name, "object_type": "message",
                                    "error_type": "NOT_FOUND", "open_errors": 3, "permanent_errors": 1, "resolved_errors": 2,
                                    "attempts": 9, "last_attempt_at": now.isoformat(), "example_error_message": "message not found"})
    for d in day_list:
        a = adoption_all[d]
        out["adoption_daily"].append({"scope": "all", "scope_name": "All workspaces", "activity_date": d.isoformat(),
                                      **{k: int(a[k]) for k in ("active_askers", "new_askers", "returning_askers",
                                                                 "weekly_active_askers", "questions")}})
    _askers(rng, out, "all", "All workspaces", [f"user{k}@example.com" for k in range(400)],
            sum(r["questions"] for r in out["daily_activity"]), start, end)
    out["daily_outcomes"] = [{"workspace_id": r["workspace_id"], "workspace_name": r["workspace_name"],
                              "activity_date": r["activity_date"], "outcome": o, "questions": r[o]}
                             for r in out["daily_activity"] for o in ("completed", "failed", "cancelled", "in_progress", "not_fetched") if r[o]]
    _every_message(rng, out, detail, end)
    _people_by_period(out, n_users, start, end)
    out["adoption_daily"].sort(key=lambda r: (r["scope"], r["activity_date"]))
    out["daily_activity"].sort(key=lambda r: (r["activity_date"], r["workspace_id"], r["space_id"]))
    out["space_leaderboard"].sort(key=lambda r: (-r["questions"], r["workspace_id"], r["space_id"]))
    out["recent_prompts"].sort(key=lambda r: r["asked_at"], reverse=True)
    out["negative_feedback"].sort(key=lambda r: r["asked_at"], reverse=True)
    out["config_change_impact"].sort(key=lambda r: (r["workspace_id"], r["space_id"]))
    out["config_change_impact"].sort(key=lambda r: r["changed_at"], reverse=True)  # as the query orders them
    out["eval_accuracy"].sort(key=lambda r: (r["workspace_id"], r["space_id"], r["run_number"]))
    return dict(out)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    k, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _binom(rng: random.Random, n: int, p: float) -> int:
    return sum(rng.random() < p for _ in range(n)) if n < 60 else max(0, min(n, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))


def _merge_failures(rows: Rows) -> Rows:
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        k = (r["workspace_id"], r["space_id"], r["activity_date"], r["error_type"])
        if k in merged:
            merged[k]["failures"] += 1
        else:
            merged[k] = dict(r)
    return list(merged.values())


def _messages(rng: random.Random, out: dict[str, Rows], ws: str, ws_name: str, sps: list[_Space], users: list[str],
              now: dt.datetime, total: int) -> None:
    t = now
    for i in range(min(total, 200)):
        t -= dt.timedelta(seconds=rng.randint(20, 1800))
        sp = rng.choice(sps[:4] * 3 + sps)
        q = _question(rng)
        r = rng.random()
        outcome = "cancelled" if r < 0.04 else "failed" if r < 0.13 else "completed"
        has_sql = outcome != "cancelled" and rng.random() < 0.8
        row = {"workspace_id": ws, "workspace_name": ws_name, "space": sp.title, "message_id": f"{rng.getrandbits(128):032x}",
               "asked_at": t.isoformat(timespec="seconds"), "asker": rng.choice(users), "question": q,
               "query_description": _describe(rng, q) if has_sql else None, "query_sql": _sql(rng, sp) if has_sql else None,
               "text_answer": (f"{rng.choice(NOUNS).title()} {rng.choice(('rose', 'fell', 'stayed flat'))} by {rng.randint(1, 60)}% "
                               f"{rng.choice(TIMES)}, driven by {rng.choice(DIMS)} {rng.randint(1, 500)}.") if outcome == "completed" and rng.random() < 0.5 else None,
               "status": outcome.upper(), "outcome": outcome,
               "error_type": rng.choice(ERRORS)[0] if outcome == "failed" else None,
               "feedback_rating": "NEGATIVE" if rng.random() < 0.03 else "POSITIVE" if rng.random() < 0.08 else None,
               "review_requested": rng.random() < 0.01, "sql_total_duration_ms": rng.randint(80, 60000) if has_sql else None,
               "query_row_count": rng.randint(0, 5000) if has_sql else None}
        out["recent_prompts"].append(row)
        if i < 100:  # the latest rated negative (older than the latest 200 in a real workspace)
            neg = {k: row[k] for k in ("workspace_id", "workspace_name", "space", "message_id", "asked_at", "asker",
                                       "question", "query_description", "query_sql", "text_answer", "status",
                                       "outcome", "error_type", "review_requested")}
            neg["message_id"] = f"{rng.getrandbits(128):032x}"
            neg["space_id"] = sp.space_id
            neg["question"] = _question(rng)
            neg["asked_at"] = (t - dt.timedelta(days=rng.randint(1, 60))).isoformat(timespec="seconds")
            if neg["query_sql"]:
                neg["query_sql"] = _sql(rng, sp)
            out["negative_feedback"].append(neg)


def _adoption(rng: random.Random, out: dict[str, Rows], ws: str, ws_name: str, day_list: list[dt.date],
              day_q: dict[dt.date, int], n_users: int, total: dict[dt.date, dict[str, float]]) -> None:
    seen = 0
    for d in day_list:
        q = day_q.get(d, 0)
        active = min(n_users, round(q / rng.uniform(2, 3.5))) if q else 0
        new = min(active, max(0, round((n_users - seen) * 0.02 * (active > 0))))
        seen += new
        weekly = min(n_users, round(active * rng.uniform(2, 3.5)))
        row = {"active_askers": active, "new_askers": new, "returning_askers": active - new,
               "weekly_active_askers": max(weekly, active), "questions": q}
        out["adoption_daily"].append({"scope": ws, "scope_name": ws_name, "activity_date": d.isoformat(), **row})
        for k, v in row.items():
            total[d][k] += v


def _askers(rng: random.Random, out: dict[str, Rows], scope: str, name: str, users: list[str], questions: float,
            start: dt.date, end: dt.date) -> None:
    n = min(20, len(users))
    share = sorted((rng.paretovariate(1.2) for _ in range(n)), reverse=True)
    for rank, (u, s) in enumerate(zip(rng.sample(users, n), share, strict=True), 1):
        q = max(1, int(questions * 0.02 * s / share[0]))
        out["top_askers"].append({"scope": scope, "scope_name": name, "asker": u, "questions": q,
                                  "conversations": max(1, q // 2), "spaces": rng.randint(1, 6), "active_days": rng.randint(1, 200),
                                  "completed": int(q * 0.87), "failed": int(q * 0.09), "negative_feedback": int(q * 0.03),
                                  "first_asked_at": f"{start}T09:00:00+00:00", "last_asked_at": f"{end}T16:00:00+00:00",
                                  "questions_rank": rank, "askers_in_scope": len(users)})


def _config(rng: random.Random, out: dict[str, Rows], ws: str, ws_name: str, sp: _Space, now: dt.datetime) -> list[dict[str, Any]]:
    items: list[tuple[str, str, str | None, int | None]] = []
    items += [("sample_question", _question(rng), None, None) for _ in range(rng.randint(3, 5))]
    items += [("table", t, f"{t.split('.')[-1].replace('_', ' ')} table", len(sp.columns[t])) for t in sp.tables]
    items += [("text_instruction", " ".join(f"When asked about {rng.choice(NOUNS)}, use {rng.choice(sp.tables)} and filter "
                                            f"{rng.choice(DIMS)} to active rows." for _ in range(rng.randint(1, 4))), None, None)
              for _ in range(rng.randint(1, 5))]
    items += [("example_sql", _question(rng), _sql(rng, sp), None) for _ in range(rng.randint(2, 8))]
    items += [("join_spec", f"{a} = {b}", f"{a}.{rng.choice(sp.columns[a])} = {b}.{rng.choice(sp.columns[b])}", None)
              for a, b in (rng.sample(sp.tables, 2) for _ in range(rng.randint(0, 4)))]
    items += [("benchmark", _question(rng), _sql(rng, sp), None) for _ in range(rng.randint(0, 10))]
    counts: dict[str, int] = defaultdict(int)
    for kind, text, detail, ncols in items:
        out["space_config_items"].append({"workspace_id": ws, "workspace_name": ws_name, "space_id": sp.space_id,
                                          "space": sp.title, "item_type": kind, "item_index": counts[kind],
                                          "item_text": text, "item_detail": detail, "column_count": ncols})
        counts[kind] += 1
    versions = rng.choice((1, 1, 2, 3, 5))
    base = {"sample_questions": counts["sample_question"], "tables": counts["table"] + counts["metric_view"],
            "columns": sum(len(c) for c in sp.columns.values()), "text_instructions": counts["text_instruction"],
            "example_sqls": counts["example_sql"], "join_specs": counts["join_spec"], "benchmarks": counts["benchmark"]}
    out["space_config"].append({"workspace_id": ws, "workspace_name": ws_name, "space_id": sp.space_id, "space": sp.title,
                                "description": f"Ask questions about {sp.title.lower()}.", "warehouse_id": f"{rng.getrandbits(64):016x}",
                                "update_time": now.isoformat(), "versions": versions, **base})
    for v in range(2, versions + 1):
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(("sample_question", "text_instruction", "example_sql"))
            out["config_item_changes"].append({"workspace_id": ws, "space_id": sp.space_id, "version_number": v,
                                               "change": rng.choice(("added", "added", "removed")), "item_type": kind,
                                               "item_text": _question(rng), "item_detail": ""})
    for v in range(1, versions + 1):
        out["config_changes"].append({"workspace_id": ws, "workspace_name": ws_name, "space_id": sp.space_id, "space": sp.title,
                                      "title": sp.title, "version_number": v, "is_current": v == versions, "update_time": now.isoformat(),
                                      "first_seen_at": (now - dt.timedelta(days=30 * (versions - v))).isoformat(),
                                      "last_seen_at": now.isoformat(), **base})
    sp.benchmarks = counts["benchmark"]
    return out["config_changes"][-versions:]


SECTIONS = ("sample_questions", "text_instructions", "example_sqls", "tables", "join_specs", "benchmarks")


def _changes(rng: random.Random, out: dict[str, Rows], ws: str, ws_name: str, sp: _Space, versions: list[dict[str, Any]],
             days: dict[str, dict[str, Any]]) -> None:
    """``config_change_impact``: each version after the first, changed (API update time) a few hours before it was
    first seen, with the space's questions, success and negative-feedback rates in the 7 days before and after
    (whole days of its daily rows)."""
    for v in versions[1:]:
        changed = dt.datetime.fromisoformat(v["first_seen_at"]) - dt.timedelta(seconds=rng.randint(600, 20 * 3600))
        sections = rng.sample(SECTIONS, rng.choice((1, 1, 1, 2, 2, 3)))
        counts = {s: (rng.choice((0, 1, 1, 2)), rng.choice((0, 0, 1)), rng.choice((0, 0, 1))) for s in sections}
        counts = {s: (a or (not r and not c), r, c) for s, (a, r, c) in counts.items()}
        diff = {s: {"added": [_question(rng) for _ in range(a)], "removed": [_question(rng) for _ in range(r)],
                    "changed": [{"name": _question(rng), "fields": ["content"]} for _ in range(c)]} for s, (a, r, c) in counts.items()}
        window: dict[str, dict[str, int]] = {"before": defaultdict(int), "after": defaultdict(int)}
        for k in range(-7, 7):
            row = days.get((changed.date() + dt.timedelta(days=k)).isoformat())
            if row:
                for col in ("questions", "completed", "failed", "cancelled", "negative_feedback"):
                    window["before" if k < 0 else "after"][col] += row[col]
        rates = {}
        for side, w in window.items():
            fin = w["completed"] + w["failed"] + w["cancelled"]
            rates[side] = (w["questions"], w["completed"] / fin if fin else None,
                           w["negative_feedback"] / w["questions"] if w["questions"] else None)
        (qb, sb, nb), (qa, sa, na) = rates["before"], rates["after"]
        out["config_change_impact"].append({
            "workspace_id": ws, "workspace_name": ws_name, "space_id": sp.space_id, "space": sp.title,
            "title_after_change": sp.title, "version_number": v["version_number"], "changed_at": changed.isoformat(timespec="seconds"),
            "diff_summary": "; ".join(f"{s} +{a} -{r} ~{c}" for s, (a, r, c) in counts.items()),
            "sections_changed": ", ".join(counts), "items_added": sum(a for a, _, _ in counts.values()),
            "items_removed": sum(r for _, r, _ in counts.values()), "items_changed": sum(c for _, _, c in counts.values()),
            "window_days": 7, "questions_before": qb, "success_rate_before": sb, "negative_feedback_rate_before": nb,
            "questions_after": qa, "success_rate_after": sa, "negative_feedback_rate_after": na,
            "success_rate_change": sa - sb if sa is not None and sb is not None else None,
            "negative_feedback_rate_change": na - nb if na is not None and nb is not None else None,
            "diff_json": json.dumps(diff, separators=(",", ":"))})


def _eval_runs(rng: random.Random, out: dict[str, Rows], ws: str, sp: _Space, evals_from: dt.date | None,
               end: dt.date) -> None:
    """``eval_accuracy``: a run every Monday 05:00 UTC from ``evals_from`` on, for a space with benchmark questions;
    each question GOOD with the space's drifting accuracy, else NEEDS_REVIEW (10 %) or BAD; 4 % of runs fail."""
    n = sp.benchmarks
    if evals_from is None or not n:
        return
    day = evals_from + dt.timedelta(days=-evals_from.weekday() % 7)
    p, runs = rng.uniform(0.45, 0.95), []
    while day <= end:
        created = dt.datetime.combine(day, dt.time(5, 0), dt.timezone.utc) + dt.timedelta(seconds=rng.randint(5, 900))
        day += dt.timedelta(days=7)
        p = min(0.99, max(0.1, p + rng.gauss(0, 0.04)))
        if rng.random() < 0.04:
            continue
        good = sum(rng.random() < p for _ in range(n))
        review = sum(rng.random() < 0.1 for _ in range(n - good))
        finished = created + dt.timedelta(seconds=5 + 10 * n + rng.randint(0, 240))
        runs.append({"workspace_id": ws, "space_id": sp.space_id, "space": sp.title, "eval_run_id": f"{rng.getrandbits(128):032x}",
                     "run_number": len(runs) + 1, "run_date": created.date().isoformat(),
                     "finished_at": finished.isoformat(timespec="seconds"), "num_questions": n, "num_correct": good,
                     "num_needs_review": review, "num_bad": n - good - review, "accuracy": good / n})
    for i, r in enumerate(runs):
        prev = runs[i - 1]["accuracy"] if i else None
        r.update(previous_accuracy=prev, accuracy_change=r["accuracy"] - prev if i else None, is_latest=i == len(runs) - 1)
    out["eval_accuracy"] += runs


def _every_message(rng: random.Random, out: dict[str, Rows], detail: dict[tuple[str, str, str], tuple[_Space, list[str], list[int]]],
                   end: dt.date) -> None:
    """``messages`` as sql/dashboards/messages.sql returns them: every message of the newest whole days up to the
    message budget (texts for the newest up to the text budget), consistent with the daily rows of those days."""
    from .pack import MESSAGE_BUDGET, TEXT_BUDGET

    per_day: dict[str, int] = defaultdict(int)
    for r in out["daily_activity"]:
        per_day[r["activity_date"]] += r["questions"]
    kept: dict[str, bool] = {}
    total = 0
    for i, day in enumerate(sorted(per_day, reverse=True)):
        total += per_day[day]
        if total > MESSAGE_BUDGET and i:
            break
        kept[day] = total <= TEXT_BUDGET or not i
    rows: Rows = []
    for r in out["daily_activity"]:
        if r["activity_date"] not in kept:
            continue
        sp, users, durations = detail[(r["workspace_id"], r["space_id"], r["activity_date"])]
        q, text = r["questions"], kept[r["activity_date"]]
        outcomes = [o for o in ("completed", "failed", "cancelled", "in_progress", "not_fetched") for _ in range(r[o])]
        rng.shuffle(outcomes)
        day0 = dt.datetime.fromisoformat(r["activity_date"] + "T00:00:00+00:00")
        times = sorted(day0 + dt.timedelta(seconds=rng.randint(0, 86399)) for _ in range(q))
        convs = [f"{rng.getrandbits(128):032x}" for _ in range(r["conversations"])]
        new = set(convs[: r["new_conversations"]])
        conv_of = convs + [rng.choice(convs) for _ in range(q - len(convs))]
        rng.shuffle(conv_of)
        started: set[str] = set()
        rated = rng.sample(range(q), r["positive_feedback"] + r["negative_feedback"])
        feedback = dict.fromkeys(rated[: r["positive_feedback"]], "POSITIVE") | dict.fromkeys(rated[r["positive_feedback"]:], "NEGATIVE")
        reviewed = set(rng.sample(range(q), r["review_requests"]))
        with_sql = [i for i, o in enumerate(outcomes) if o in ("completed", "failed")][: len(durations)]
        failed_sql = set(with_sql[: r["failed_statements"]])
        duration = dict(zip(with_sql, durations, strict=False))
        for i, (o, t, c) in enumerate(zip(outcomes, times, conv_of, strict=True)):
            starts = c in new and c not in started
            started.add(c)
            question = _question(rng) if text else None
            rows.append({
                "workspace_id": r["workspace_id"], "workspace_name": r["workspace_name"], "space_id": r["space_id"],
                "space": r["space"], "message_id": f"{rng.getrandbits(128):032x}", "conversation_id": c,
                "asked_at": t.isoformat(), "activity_date": r["activity_date"], "asker": rng.choice(users), "outcome": o,
                "error_type": rng.choices([e for e, _ in ERRORS], [p for _, p in ERRORS])[0] if o == "failed" else None,
                "feedback_rating": feedback.get(i), "review_requested": i in reviewed, "starts_conversation": starts,
                "has_statement": i in duration, "statement_failed": i in failed_sql,
                "sql_total_duration_ms": duration.get(i), "has_text": text, "question": question,
                "query_description": _describe(rng, question) if text and i in duration else None,
                "query_sql": _sql(rng, sp) if text and i in duration else None,
                "text_answer": (f"{rng.choice(NOUNS).title()} {rng.choice(('rose', 'fell', 'stayed flat'))} by {rng.randint(1, 60)}% "
                                f"{rng.choice(TIMES)}, driven by {rng.choice(DIMS)} {rng.randint(1, 500)}.") if text and o == "completed" and rng.random() < 0.5 else None,
                "query_row_count": rng.randint(0, 5000) if i in duration else None})
    rows.sort(key=lambda m: (m["asked_at"], m["workspace_id"], m["message_id"]), reverse=True)
    out["messages"] = rows


PERIODS = (("all", None, 0), ("last_7", 7, 0), ("previous_7", 7, 7), ("last_30", 30, 0), ("previous_30", 30, 30),
           ("last_90", 90, 0), ("previous_90", 90, 90))


def _people_by_period(out: dict[str, Rows], n_users: dict[str, int], start: dt.date, end: dt.date) -> None:
    """Plausible distinct askers and conversations per period (synthetic: not counted from messages)."""
    for period, days, skip in PERIODS:
        last = end - dt.timedelta(days=skip)
        first = start if days is None else last - dt.timedelta(days=days - 1)
        if last < start:
            continue
        per: dict[tuple[str, str | None], list[int]] = defaultdict(lambda: [0, 0])
        for r in out["daily_activity"]:
            if first.isoformat() <= r["activity_date"] <= last.isoformat():
                for key in (("all", None), (r["workspace_id"], None), (r["workspace_id"], r["space_id"])):
                    per[key][0] += r["questions"]
                    per[key][1] += r["conversations"]
        for (ws, space), (q, conv) in sorted(per.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            cap = sum(n_users.values()) if ws == "all" else n_users[ws]
            out["people_by_period"].append({"workspace_id": ws, "space_id": space, "period": period,
                                            "first_day": first.isoformat(), "last_day": last.isoformat(),
                                            "askers": min(cap, max(1, q // 4)), "conversations": conv})
