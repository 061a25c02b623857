"""What the local page embeds: the dashboard datasets, bounded and packed.

The page's size must not grow with days x spaces x workspaces x messages (goal: under 5 MB at 50 workspaces x 10
spaces x 365 days, about 730,000 messages), and every figure it shows must stay exact. So, from the rows of
``sql/dashboards/*.sql`` (which the Lakeview dashboard uses unchanged):

* ``daily_activity`` is summed per workspace and day, with the rows and bytes read (``sql_reads_daily``): daily
  for the last ``WORKSPACE_DAILY_DAYS`` days, older days folded into 7-day buckets;
* ``space_activity`` keeps the outcome, feedback and statement counts per space and day, for every space (the
  leaderboard, the per-space charts and each space's page follow the date range): daily for the last
  ``SPACE_DAILY_DAYS`` days (the presets of the date-range control and the periods before them), weekly before;
* ``failures`` is summed per space, day and error type (daily for ``SPACE_DAILY_DAYS`` days, weekly before);
* ``messages`` (one row per message, from ``sql/dashboards/messages.sql``) becomes two tables: the facts of each
  message (time to the minute, space, asker, conversation, outcome, error type, feedback, SQL duration; no text)
  for the newest whole days up to ``MESSAGE_BUDGET`` messages, from which the page counts distinct askers and
  conversations over any range and filters by asker or error type; and the texts (question, Genie's description,
  SQL, answer, each cut to ``TEXT_LIMITS`` characters) of the newest whole days up to ``TEXT_BUDGET`` messages,
  which the search reads. The query applies the same two budgets; the page says how far back each reaches;
* ``people_by_period`` (distinct askers and conversations of the date-range presets) is kept as is;
* the space lifecycle is kept whole, one row per configuration change (``config_change_impact``: the before and
  after figures) and per finished eval run (``eval_accuracy``), without the columns the page never shows
  (``NOT_EMBEDDED``: the diff as JSON, whose items ``config_item_changes`` lists, and the eval run ids, which would
  weigh more than every other column of the runs together; the Lakeview dashboard has both);
* ``daily_outcomes`` and ``recent_prompts`` are left out (the page derives outcomes from the activity and
  searches ``messages``; Lakeview uses them); ``sql_reads_daily`` is merged into the activity tables;
* the latest negative answers are capped per workspace so that the page holds at most about ``NEGATIVE_BUDGET``;
* every table is columnar (one array per column) with repeated strings dictionary-encoded and the message times
  delta-encoded, then gzip-compressed (base64). The page inflates the ``CORE`` tables before its first render
  (``DecompressionStream``) and the ``LAZY`` ones (message texts and facts, negative answers, configuration items,
  eval runs) when a view needs them.

Weekly buckets are the 7-day windows ending on the last day (``last``, ``last - 7``, ...), one alignment for every
dataset, so a folded row is exactly the sum of its days and a weekly chart is exact. A folded row carries the
bucket's last day as its date. Adoption (distinct people) cannot be summed over days; it is kept daily.
``unpack`` is the Python twin of the page's decoding (``static/dashboard.js``), used by the tests and the bench.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

Rows = list[dict[str, Any]]

FORMAT = 3
WORKSPACE_DAILY_DAYS = 365
SPACE_DAILY_DAYS = 182  # 26 weeks: the 90-day preset and the 90 days before it stay daily
CHART_DAILY_DAYS = 90  # the charts draw days up to this span, 7-day buckets beyond (same alignment)
MESSAGE_BUDGET, TEXT_BUDGET = 100_000, 20_000  # as in sql/dashboards/messages.sql
TEXT_LIMITS = {"question": 500, "query_description": 500, "query_sql": 2000, "text_answer": 500}
NEGATIVE_PER_WORKSPACE, NEGATIVE_BUDGET, MIN_PER_WORKSPACE = 100, 1000, 20  # what the query returns; the page keeps
CORE = ("workspaces", "daily_activity", "space_activity", "failures", "space_leaderboard", "adoption_daily",
        "top_askers", "people_by_period", "sql_performance", "sql_duration_histogram", "space_config",
        "config_changes", "config_item_changes", "config_change_impact", "pipeline_health", "fetch_errors")
# eval runs: one per space with benchmarks and week (about 10,000 at the large scale), on two pages only
LAZY = ("messages", "message_text", "negative_feedback", "space_config_items", "eval_accuracy")
LEFT_OUT = ("daily_outcomes", "recent_prompts", "sql_reads_daily")
NOT_EMBEDDED = {"config_change_impact": ("diff_json",), "eval_accuracy": ("eval_run_id", "workspace_name")}  # columns left out (the page names workspaces by id)

ACTIVITY_SUMS = ("questions", "conversations", "new_conversations", "completed", "failed", "cancelled", "in_progress",
                 "not_fetched", "positive_feedback", "negative_feedback", "review_requests", "sql_statements",
                 "failed_statements", "sql_total_duration_ms", "read_rows", "read_bytes")
# per space, what the leaderboard and a space's page sum over a range (durations, conversations and data read
# per space come from the messages or, for all time, from the marts)
SPACE_SUMS = ("questions", "completed", "failed", "cancelled", "in_progress", "not_fetched", "positive_feedback",
              "negative_feedback", "review_requests", "sql_statements", "failed_statements")
FACT_FLAGS = ("review_requested", "starts_conversation", "has_statement", "statement_failed")
TEXT_COLUMNS = ("question", "query_description", "query_sql", "text_answer", "query_row_count")
SPACE_KEYS = ("workspace_id", "workspace_name", "space_id", "space")


def _date(v: Any) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])


def bucket_day(day: Any, last: dt.date, daily_days: int) -> str:
    """The day a row of ``day`` is kept under: itself within the last ``daily_days`` days (rounded up to whole
    7-day buckets, so that a folded row's date is never a kept day), else its bucket's last day."""
    d = _date(day)
    age = (last - d).days
    if age // 7 < -(-daily_days // 7):
        return d.isoformat()
    return (last - dt.timedelta(days=7 * (age // 7))).isoformat()


def _fold(rows: Iterable[dict[str, Any]], keys: tuple[str, ...], sums: tuple[str, ...], last: dt.date,
          daily_days: int) -> Rows:
    """Sum ``sums`` per ``keys`` and day (old days folded into their week), zero rows dropped, sorted."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    days: dict[Any, str] = {}
    for r in rows:
        day = days.get(r["activity_date"])
        if day is None:
            day = days[r["activity_date"]] = bucket_day(r["activity_date"], last, daily_days)
        k = (day, *(r[c] for c in keys))
        acc = out.get(k)
        if acc is None:
            acc = out[k] = {**{c: r[c] for c in keys}, "activity_date": day, **{s: 0 for s in sums}}
        for s in sums:
            acc[s] += r.get(s) or 0
    return [out[k] for k in sorted(out, key=lambda k: tuple("" if v is None else str(v) for v in k))
            if any(out[k][s] for s in sums)]


def _per_workspace(rows: Rows, cap: int) -> Rows:
    """The first ``cap`` rows of each workspace (the queries return them newest first)."""
    seen: dict[str, int] = defaultdict(int)
    out = []
    for r in rows:
        seen[r["workspace_id"]] += 1
        if seen[r["workspace_id"]] <= cap:
            out.append(r)
    return out


def negative_cap(n_workspaces: int) -> int:
    """Negative answers kept per workspace: all of them up to the budget, never fewer than 10."""
    return min(NEGATIVE_PER_WORKSPACE, max(MIN_PER_WORKSPACE // 2, NEGATIVE_BUDGET // max(1, n_workspaces)))


def _with_reads(act: Rows, reads: Rows) -> Rows:
    """``daily_activity`` rows with the rows and bytes read that (workspace, space, day)."""
    by = {(r["workspace_id"], r["space_id"], str(r["activity_date"])[:10]): r for r in reads}
    out = []
    for r in act:
        x = by.get((r["workspace_id"], r["space_id"], str(r["activity_date"])[:10]))
        out.append({**r, "read_rows": x["read_rows"] if x else 0, "read_bytes": x["read_bytes"] if x else 0})
    return out


def newest_days(rows: Rows, budget: int) -> Rows:
    """The rows of the newest whole days holding at most ``budget`` rows (the newest day always), newest first
    (what ``sql/dashboards/messages.sql`` returns)."""
    per_day: dict[str, int] = defaultdict(int)
    for r in rows:
        per_day[str(r["activity_date"])[:10]] += 1
    kept, total = set(), 0
    for i, day in enumerate(sorted(per_day, reverse=True)):
        total += per_day[day]
        if total > budget and i:
            break
        kept.add(day)
    return sorted((r for r in rows if str(r["activity_date"])[:10] in kept),
                  key=lambda r: (str(r["asked_at"]), r["workspace_id"], r["message_id"]), reverse=True)


def _minutes(v: Any) -> int:
    t = v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(str(v))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return int(t.timestamp() // 60)


def _cut(text: Any, limit: int) -> Any:
    return text[: limit - 1] + "…" if isinstance(text, str) and len(text) > limit else text


def split_messages(rows: Rows) -> tuple[Rows, Rows]:
    """The message facts (no text; conversations as small numbers) and the texts of the newest of them (the rows
    the query marked ``has_text``, a prefix of the facts: the newest whole days)."""
    rows = newest_days(rows, MESSAGE_BUDGET)
    texts_days = newest_days([r for r in rows if r.get("has_text")], TEXT_BUDGET)
    with_text = {(r["workspace_id"], r["message_id"]) for r in texts_days}
    conversations: dict[tuple[str, str], int] = {}
    facts, texts = [], []
    for r in rows:
        conv = r.get("conversation_id")
        code = conversations.setdefault((r["workspace_id"], conv), len(conversations)) if conv else None
        facts.append({**{k: r[k] for k in SPACE_KEYS}, "t": _minutes(r["asked_at"]), "asker": r["asker"],
                      "conversation": code, "outcome": r["outcome"], "error_type": r["error_type"],
                      "feedback_rating": r["feedback_rating"], **{k: int(bool(r.get(k))) for k in FACT_FLAGS},
                      "sql_total_duration_ms": r["sql_total_duration_ms"]})
        if (r["workspace_id"], r["message_id"]) in with_text:
            if len(texts) != len(facts) - 1:
                raise ValueError("message texts must be the newest messages (sql/dashboards/messages.sql)")
            texts.append({k: _cut(r.get(k), TEXT_LIMITS.get(k, 0)) for k in TEXT_COLUMNS})
    return facts, texts


def bound(data: Mapping[str, Rows]) -> tuple[dict[str, Rows], dict[str, Any]]:
    """The datasets the page shows, bounded as the module says; and the facts the page needs about them."""
    act = _with_reads(data.get("daily_activity", []), data.get("sql_reads_daily", []))
    days = sorted({str(r["activity_date"])[:10] for r in act} | {str(r["activity_date"])[:10] for r in data.get("adoption_daily", [])})
    last = dt.date.fromisoformat(days[-1]) if days else dt.date(1970, 1, 1)
    out = {k: list(v) for k, v in data.items() if k not in LEFT_OUT}
    for name, cols in NOT_EMBEDDED.items():
        if name in out:
            out[name] = [{k: v for k, v in r.items() if k not in cols} for r in out[name]]
    out["daily_activity"] = _fold(act, ("workspace_id", "workspace_name"), ACTIVITY_SUMS, last, WORKSPACE_DAILY_DAYS)
    out["space_activity"] = _fold(act, SPACE_KEYS, SPACE_SUMS, last, SPACE_DAILY_DAYS)
    out["failures"] = _fold(data.get("failures", []), (*SPACE_KEYS, "error_type"), ("failures",), last, SPACE_DAILY_DAYS)
    n_ws = len({r["workspace_id"] for r in data.get("workspaces", [])} | {r["workspace_id"] for r in act})
    neg_per_ws = negative_cap(n_ws)
    out["negative_feedback"] = _per_workspace(data.get("negative_feedback", []), neg_per_ws)
    facts, texts = split_messages(data.get("messages", []))
    out["messages"], out["message_text"] = facts, texts
    day = lambda minutes: (dt.datetime(1970, 1, 1) + dt.timedelta(minutes=minutes)).date().isoformat()  # noqa: E731
    meta = {"first": days[0] if days else None, "last": days[-1] if days else None,
            "chart_daily_days": CHART_DAILY_DAYS, "workspace_daily_days": WORKSPACE_DAILY_DAYS,
            "space_daily_days": SPACE_DAILY_DAYS, "negative_per_workspace": neg_per_ws,
            "messages_total": sum(r["questions"] or 0 for r in act),
            "messages": {"count": len(facts), "first": day(facts[-1]["t"]) if facts else None,
                         "budget": MESSAGE_BUDGET},
            "texts": {"count": len(texts), "first": day(facts[len(texts) - 1]["t"]) if texts else None,
                      "budget": TEXT_BUDGET, "limits": TEXT_LIMITS},
            "spaces_with_activity": len({(r["workspace_id"], r["space_id"]) for r in act if r["questions"]}),
            "core": [k for k in CORE if k in out], "lazy": [k for k in LAZY if k in out],
            "left_out": list(LEFT_OUT), "not_embedded": {k: list(v) for k, v in NOT_EMBEDDED.items()}}
    return out, meta


# -- columnar encoding --------------------------------------------------------------------------------------


# Key columns that go together get one dictionary of tuples: {"g": [names], "k": [[values], ...], "i": codes}.
GROUPS = (SPACE_KEYS, ("workspace_id", "workspace_name", "space"), ("workspace_id", "workspace_name"),
          ("scope", "scope_name"), ("workspace_id", "space_id", "space"))
DELTA = ("t",)  # sorted numbers: {"d": [first, difference, difference, ...]}
FRESH = ("conversation",)  # numbers given in order of first use: {"f": [-1 = the next one, else next - 1 - value]}
PER_WORKSPACE = ("asker",)  # strings of one workspace: {"by": "workspace_id", "k": {workspace: [distinct]}, "i": codes}


def columns(rows: Rows) -> dict[str, Any]:
    """``{"n": rows, "c": {column: values | {"k": distinct, "i": codes} | group | {"d": deltas}}}``: strings
    repeated enough get a dictionary, key columns that go together (``GROUPS``) a joint one, ``DELTA`` columns
    their differences."""
    names: list[str] = list(rows[0]) if rows else []
    cols: dict[str, Any] = {}
    group = next((g for g in GROUPS if all(c in names for c in g)), ())
    if group:
        keys = [tuple(r[c] for c in group) for r in rows]
        index: dict[tuple[Any, ...], int] = {}
        codes = [index.setdefault(k, len(index)) for k in keys]
        cols[group[0]] = {"g": list(group), "k": [list(k) for k in index], "i": codes}
    for name in names:
        if name in group:
            continue
        values = [r[name] for r in rows]
        strings = [v for v in values if isinstance(v, str)]
        distinct = list(dict.fromkeys(values))
        if name in DELTA and all(isinstance(v, int) for v in values):
            cols[name] = {"d": [b - a for a, b in zip([0, *values[:-1]], values, strict=True)]}
        elif name in FRESH and _fresh(values) is not None:
            cols[name] = {"f": _fresh(values)}
        elif name in PER_WORKSPACE and "workspace_id" in names and all(v is None or isinstance(v, str) for v in values):
            local: dict[str, dict[Any, int]] = defaultdict(dict)
            codes = [local[r["workspace_id"]].setdefault(r[name], len(local[r["workspace_id"]])) for r in rows]
            cols[name] = {"by": "workspace_id", "k": {w: list(d) for w, d in local.items()}, "i": codes}
        elif strings and len(distinct) * 2 <= len(values) and all(v is None or isinstance(v, str) for v in values):
            index = {v: i for i, v in enumerate(distinct)}
            cols[name] = {"k": distinct, "i": [index[v] for v in values]}
        else:
            cols[name] = values
    return {"n": len(rows), "c": cols}


def _fresh(values: list[Any]) -> list[int | None] | None:
    out: list[int | None] = []
    nxt = 0
    for v in values:
        if v is None:
            out.append(None)
        elif not isinstance(v, int) or v > nxt:
            return None
        elif v == nxt:
            out.append(-1)
            nxt += 1
        else:
            out.append(nxt - 1 - v)
    return out


def _unfresh(codes: list[int | None]) -> list[int | None]:
    out: list[int | None] = []
    nxt = 0
    for c in codes:
        if c is None:
            out.append(None)
        elif c < 0:
            out.append(nxt)
            nxt += 1
        else:
            out.append(nxt - 1 - c)
    return out


def rows_of(table: Mapping[str, Any]) -> Rows:
    """Rows again from ``columns`` (what dashboard.js's ``decode`` does)."""
    cols: dict[str, list[Any]] = {}
    scoped = {name: c for name, c in table["c"].items() if isinstance(c, dict) and "by" in c}
    for name, c in table["c"].items():
        if name in scoped:
            continue
        if isinstance(c, dict) and "f" in c:
            cols[name] = _unfresh(c["f"])
        elif isinstance(c, dict) and "g" in c:
            for j, member in enumerate(c["g"]):
                cols[member] = [c["k"][i][j] for i in c["i"]]
        elif isinstance(c, dict) and "d" in c:
            total, values = 0, []
            for d in c["d"]:
                total += d
                values.append(total)
            cols[name] = values
        else:
            cols[name] = [c["k"][i] for i in c["i"]] if isinstance(c, dict) else c
    for name, c in scoped.items():
        cols[name] = [c["k"][w][i] for w, i in zip(cols[c["by"]], c["i"], strict=True)]
    return [{name: values[j] for name, values in cols.items()} for j in range(table["n"])]


def _compress(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def pack(data: Mapping[str, Rows]) -> dict[str, Any]:
    """The page's ``meta`` and its tables (``detail``: columnar, gzip + base64, decoded by the page)."""
    bounded, meta = bound(data)
    return {"format": FORMAT, "meta": meta, "detail": {k: _compress(columns(v)) for k, v in bounded.items()}}


def unpack(payload: Mapping[str, Any]) -> dict[str, Rows]:
    """Every embedded dataset as rows: what the page draws from."""
    out = {k: rows_of(v) for k, v in payload.get("datasets", {}).items()}
    for k, blob in payload.get("detail", {}).items():
        out[k] = rows_of(json.loads(gzip.decompress(base64.b64decode(blob))))
    return out
