"""What the local page embeds: the dashboard datasets, bounded and packed.

The page's size must not grow with days x spaces x workspaces (goal: under 5 MB at 50 workspaces x 10 spaces x
365 days), and every figure it shows must stay exact. So, from the rows of ``sql/dashboards/*.sql`` (which the
Lakeview dashboard uses unchanged):

* ``daily_activity`` is summed per workspace and day (the charts never split its columns by space): daily for the
  last ``WORKSPACE_DAILY_DAYS`` days, older days folded into 7-day buckets;
* ``space_daily`` keeps questions per space and day for the ``TOP_SPACES`` busiest spaces of each workspace only
  (the one chart split by space draws the eight busiest; the rest is the workspace total minus those), daily for
  the last ``SPACE_DAILY_DAYS`` days, weekly before;
* ``failures`` is summed per workspace, day and error type (daily for ``SPACE_DAILY_DAYS`` days, weekly before);
* ``daily_outcomes`` is left out (the page derives outcomes from ``daily_activity``; Lakeview uses it);
* the latest prompts and negative answers are capped per workspace so that the page holds at most about
  ``PROMPT_BUDGET`` of them (all 200 per workspace up to 10 workspaces), and, with the configuration items, are
  embedded gzip-compressed (base64) and decompressed in the browser when a page that shows them is opened;
* every table is columnar (one array per column) with repeated strings dictionary-encoded.

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

FORMAT = 2
WORKSPACE_DAILY_DAYS = 365
SPACE_DAILY_DAYS = 90
CHART_DAILY_DAYS = 90  # the charts draw days up to this span, 7-day buckets beyond (same alignment)
TOP_SPACES = 8
PROMPTS_PER_WORKSPACE, NEGATIVE_PER_WORKSPACE = 200, 100  # what the queries return
PROMPT_BUDGET, NEGATIVE_BUDGET, MIN_PER_WORKSPACE = 2000, 1000, 20
COMPRESSED = ("recent_prompts", "negative_feedback", "space_config_items")
LEFT_OUT = ("daily_outcomes",)

ACTIVITY_SUMS = ("questions", "conversations", "new_conversations", "completed", "failed", "cancelled", "in_progress",
                 "not_fetched", "positive_feedback", "negative_feedback", "review_requests", "sql_statements",
                 "failed_statements", "sql_total_duration_ms")


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
            acc[s] += r[s] or 0
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


def prompt_caps(n_workspaces: int) -> tuple[int, int]:
    """Prompts and negative answers kept per workspace: all of them up to the budget, never fewer than 20."""
    n = max(1, n_workspaces)
    return (min(PROMPTS_PER_WORKSPACE, max(MIN_PER_WORKSPACE, PROMPT_BUDGET // n)),
            min(NEGATIVE_PER_WORKSPACE, max(MIN_PER_WORKSPACE // 2, NEGATIVE_BUDGET // n)))


def bound(data: Mapping[str, Rows]) -> tuple[dict[str, Rows], dict[str, Any]]:
    """The datasets the page shows, bounded as the module says; and the facts the page needs about them."""
    act = data.get("daily_activity", [])
    days = sorted({str(r["activity_date"])[:10] for r in act} | {str(r["activity_date"])[:10] for r in data.get("adoption_daily", [])})
    last = dt.date.fromisoformat(days[-1]) if days else dt.date(1970, 1, 1)
    out = {k: list(v) for k, v in data.items() if k not in LEFT_OUT}
    out["daily_activity"] = _fold(act, ("workspace_id", "workspace_name"), ACTIVITY_SUMS, last, WORKSPACE_DAILY_DAYS)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for r in act:
        totals[(r["workspace_id"], r["space_id"])] += r["questions"] or 0
    ranked: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in sorted(totals, key=lambda k: (-totals[k], k)):
        if totals[key] > 0:
            ranked[key[0]].append(key)
    top = {k for keys in ranked.values() for k in keys[:TOP_SPACES]}
    out["space_daily"] = _fold((r for r in act if (r["workspace_id"], r["space_id"]) in top),
                               ("workspace_id", "workspace_name", "space_id", "space"), ("questions",), last,
                               SPACE_DAILY_DAYS)
    out["failures"] = _fold(data.get("failures", []), ("workspace_id", "workspace_name", "error_type"), ("failures",),
                            last, SPACE_DAILY_DAYS)
    n_ws = len({r["workspace_id"] for r in data.get("workspaces", [])} | {r["workspace_id"] for r in act})
    per_ws, neg_per_ws = prompt_caps(n_ws)
    out["recent_prompts"] = _per_workspace(data.get("recent_prompts", []), per_ws)
    out["negative_feedback"] = _per_workspace(data.get("negative_feedback", []), neg_per_ws)
    meta = {"first": days[0] if days else None, "last": days[-1] if days else None,
            "chart_daily_days": CHART_DAILY_DAYS, "workspace_daily_days": WORKSPACE_DAILY_DAYS,
            "space_daily_days": SPACE_DAILY_DAYS, "top_spaces": TOP_SPACES,
            "prompts_per_workspace": per_ws, "negative_per_workspace": neg_per_ws,
            "spaces_with_activity": len(totals), "left_out": list(LEFT_OUT)}
    return out, meta


# -- columnar encoding --------------------------------------------------------------------------------------


# Key columns that go together get one dictionary of tuples: {"g": [names], "k": [[values], ...], "i": codes}.
GROUPS = (("workspace_id", "workspace_name", "space_id", "space"), ("workspace_id", "workspace_name", "space"),
          ("workspace_id", "workspace_name"), ("scope", "scope_name"))


def columns(rows: Rows) -> dict[str, Any]:
    """``{"n": rows, "c": {column: values | {"k": distinct, "i": codes} | group}}``: strings repeated enough get a
    dictionary, key columns that go together (``GROUPS``) a joint one."""
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
        if strings and len(distinct) * 2 <= len(values) and all(v is None or isinstance(v, str) for v in values):
            index = {v: i for i, v in enumerate(distinct)}
            cols[name] = {"k": distinct, "i": [index[v] for v in values]}
        else:
            cols[name] = values
    return {"n": len(rows), "c": cols}


def rows_of(table: Mapping[str, Any]) -> Rows:
    """Rows again from ``columns`` (what dashboard.js's ``decode`` does)."""
    cols: dict[str, list[Any]] = {}
    for name, c in table["c"].items():
        if isinstance(c, dict) and "g" in c:
            for j, member in enumerate(c["g"]):
                cols[member] = [c["k"][i][j] for i in c["i"]]
        else:
            cols[name] = [c["k"][i] for i in c["i"]] if isinstance(c, dict) else c
    return [{name: values[j] for name, values in cols.items()} for j in range(table["n"])]


def _compress(value: Any) -> str:
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


def pack(data: Mapping[str, Rows]) -> dict[str, Any]:
    """The page's ``datasets`` (columnar), ``detail`` (gzip + base64, decoded on demand) and ``meta``."""
    bounded, meta = bound(data)
    return {"format": FORMAT, "meta": meta,
            "datasets": {k: columns(v) for k, v in bounded.items() if k not in COMPRESSED},
            "detail": {k: _compress(columns(v)) for k, v in bounded.items() if k in COMPRESSED}}


def unpack(payload: Mapping[str, Any]) -> dict[str, Rows]:
    """Every embedded dataset as rows (the detail decompressed): what the page draws from."""
    out = {k: rows_of(v) for k, v in payload["datasets"].items()}
    for k, blob in payload.get("detail", {}).items():
        out[k] = rows_of(json.loads(gzip.decompress(base64.b64decode(blob))))
    return out
