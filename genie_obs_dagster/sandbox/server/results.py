"""Query results of Genie messages as a SQL Statement Execution ``StatementResponse`` (genie-api.md §6).

There is no warehouse behind the sandbox, so rows are synthesised: columns are read off the generated
SQL's select list (alias or last name part; a type guessed from the expression), values are seeded by the
statement id so the same message always returns the same rows, and the row count is the message's
``row_count``. ``data_array`` holds strings, as Databricks sends them.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

from ..model import Message

ROW_CAP = 5000  # Genie API query results are capped at 5,000 rows (older docs; [U] today)
_SELECT = re.compile(r"^\s*SELECT\s+(?:DISTINCT\s+)?(?P<cols>.*?)\s+FROM\s", re.IGNORECASE | re.DOTALL)
_ALIAS = re.compile(r"\s+AS\s+`?(?P<alias>\w+)`?\s*$", re.IGNORECASE)
_TYPE_RULES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"^\s*count\s*\(", re.I), "LONG", "BIGINT"),
    (re.compile(r"^\s*(sum|avg)\s*\(", re.I), "DOUBLE", "DOUBLE"),
    (re.compile(r"^\s*year\s*\(", re.I), "INT", "INT"),
    (re.compile(r"^\s*date_trunc\s*\(|_at$", re.I), "TIMESTAMP", "TIMESTAMP"),
    (re.compile(r"date$", re.I), "DATE", "DATE"),
    (re.compile(r"(_id|count|headcount)$", re.I), "LONG", "BIGINT"),
    (re.compile(r"(amount|salary|value|revenue|cost)$", re.I), "DOUBLE", "DOUBLE"),
)
# Statement state while Genie is at a message status.
STATEMENT_STATE = {"PENDING_WAREHOUSE": "PENDING", "EXECUTING_QUERY": "RUNNING", "COMPLETED": "SUCCEEDED",
                   "FAILED": "FAILED", "CANCELLED": "CANCELED"}


def _split_top_level(select_list: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in select_list:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def columns(sql: str) -> list[dict[str, Any]]:
    """Result columns of a SELECT (a single STRING column when the select list cannot be read)."""
    match = _SELECT.match(sql or "")
    exprs = _split_top_level(match.group("cols")) if match else []
    if not exprs or exprs == ["*"]:
        return [{"name": "result", "position": 0, "type_name": "STRING", "type_text": "STRING"}]
    out = []
    for i, expr in enumerate(exprs):
        alias = _ALIAS.search(expr)
        name = alias.group("alias") if alias else expr.split(".")[-1].strip("` ")
        body = expr[: alias.start()] if alias else expr
        type_name, type_text = next(((t, tt) for rx, t, tt in _TYPE_RULES if rx.search(body) or rx.search(name)),
                                    ("STRING", "STRING"))
        out.append({"name": name, "position": i, "type_name": type_name, "type_text": type_text})
    return out


def _value(col: dict[str, Any], i: int, rng: random.Random) -> str:
    kind = col["type_name"]
    if kind == "LONG":
        return str(rng.randint(1, 100_000))
    if kind == "INT":
        return str(2020 + i % 7)
    if kind == "DOUBLE":
        return f"{rng.uniform(10, 1_000_000):.2f}"
    day = dt.date(2026, 1, 1) + dt.timedelta(days=7 * i)
    if kind == "TIMESTAMP":
        at = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=rng.randrange(86400))
        return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if kind == "DATE":
        return day.isoformat()
    return f"{col['name'].replace('_', ' ')} {i + 1}"


def statement_response(m: Message, status: str) -> dict[str, Any]:
    """``StatementResponse`` of the message's query at message status ``status``."""
    state = STATEMENT_STATE.get(status, "PENDING")
    out: dict[str, Any] = {"statement_id": m.statement_id, "status": {"state": state}}
    if state == "FAILED":
        out["status"].update(sql_state="42P01", error={"error_code": "BAD_REQUEST", "message": m.error_message or "Query failed"})
        return out
    if state != "SUCCEEDED":
        return out
    cols = columns(m.sql or "")
    total = m.row_count or 0
    n = min(total, ROW_CAP)
    rng = random.Random(m.statement_id)
    rows = [[_value(c, i, rng) for c in cols] for i in range(n)]
    out["manifest"] = {
        "format": "JSON_ARRAY",
        "schema": {"column_count": len(cols), "columns": cols},
        "total_chunk_count": 1,
        "chunks": [{"chunk_index": 0, "row_offset": 0, "row_count": n}],
        "total_row_count": n,
        "truncated": total > ROW_CAP,
    }
    out["result"] = {"chunk_index": 0, "row_offset": 0, "row_count": n, "data_array": rows}
    return out
