"""Shape Genie API results into rows of ``message_details`` and ``message_fetch_errors``.

The rows' Arrow schemas are the tables' DDL (``sql/ddl/target/<table>.sql``, through
:func:`~genie_obs_dagster.warehouse.sql.ddl_arrow_schema`): column names, order and types are written once,
there, and an all-NULL column still has the right type when staged. :func:`message_row` and
:func:`error_row` must produce exactly the DDL's columns (:func:`conform` checks every row; a column added to
the DDL and not shaped here fails loudly instead of being stored as NULL). Each message is shaped and
converted on its own (:func:`shape`, called by the fetch), so one answer of the wrong shape -- wrong JSON
types, text that UTF-8 cannot encode (lone surrogates), timestamps out of range -- becomes a
``MALFORMED_RESPONSE`` error of that message, and :func:`to_tables` never fails on a batch because of it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..warehouse.sql import ddl_arrow_schema
from .errors import MALFORMED_RESPONSE, GenieApiError

FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "QUERY_RESULT_EXPIRED"})
UTC = dt.timezone.utc
MESSAGES_TABLE, ERRORS_TABLE = "message_details", "message_fetch_errors"


def message_schema() -> pa.Schema:
    """Arrow schema of a ``message_details`` row: its DDL's columns, in DDL order."""
    return ddl_arrow_schema(MESSAGES_TABLE)


def error_schema() -> pa.Schema:
    """Arrow schema of a ``message_fetch_errors`` row: its DDL's columns, in DDL order."""
    return ddl_arrow_schema(ERRORS_TABLE)


class RowShapeError(RuntimeError):
    """Row shaping and a table's DDL disagree on the columns: a bug of this code, never an API answer's fault."""


def conform(row: dict[str, Any], schema: pa.Schema, table: str) -> dict[str, Any]:
    """``row`` if its keys are exactly the schema's columns. Arrow would silently store a missing key as NULL
    and drop an unknown one; a column added to the DDL (or renamed) must be shaped here on purpose."""
    if row.keys() != set(schema.names):
        missing = [c for c in schema.names if c not in row]
        extra = [k for k in row if k not in schema.names]
        raise RowShapeError(f"rows shaped for {table} do not match sql/ddl/target/{table}.sql: "
                            f"not shaped {missing or 'none'}, not in the DDL {extra or 'none'}")
    return row


# Not a table's row: what sql/genie/resolve_fetch_errors.sql reads (one per message fetched by this batch).
RESOLVED_SCHEMA = pa.schema([("workspace_id", pa.string()), ("message_id", pa.string()),
                             ("resolved_at", pa.timestamp("us", tz="UTC")), ("attempts", pa.int32())])


@dataclass(frozen=True)
class MessageRef:
    """A message to fetch, as listed by ``genie_messages_to_fetch`` (or found by listing conversations)."""

    workspace_id: str
    space_id: str
    conversation_id: str
    message_id: str
    first_seen_date: dt.date
    audit_asker_email: str | None = None
    discovered_via: str = "audit"


@dataclass
class FetchOutcome:
    ref: MessageRef
    fetched_at: dt.datetime
    attempts: int
    message: dict[str, Any] | None = None
    user: dict[str, Any] | None = None
    error: GenieApiError | None = None
    row: pa.RecordBatch | None = None  # the message_details row, converted by :func:`shape`


class Malformed(ValueError):
    """A field of an API answer is not of its documented JSON type (the text names the field, never a value)."""


# Documented JSON types of the fields we read (genie-api.md §2). int64 fields may come as JSON numbers or
# as decimal strings (proto3 JSON); booleans are not numbers.
_INT, _STR, _LIST, _DICT = "int", (str,), (list,), (dict,)
MESSAGE_FIELDS: dict[str, Any] = {
    "id": _STR, "message_id": _STR, "space_id": _STR, "conversation_id": _STR, "content": _STR, "status": _STR,
    "created_timestamp": _INT, "last_updated_timestamp": _INT, "user_id": _INT, "attachments": _LIST,
    "error": _DICT, "feedback": _DICT, "query_result": _DICT,
}
ATTACHMENT_FIELDS: dict[str, Any] = {"attachment_id": _STR, "query": _DICT, "text": _DICT, "suggested_questions": _DICT}
NESTED_FIELDS: dict[str, dict[str, Any]] = {
    "query": {"query": _STR, "title": _STR, "description": _STR, "statement_id": _STR, "id": _STR,
              "query_result_metadata": _DICT},
    "query_result_metadata": {"row_count": _INT},
    "text": {"content": _STR, "purpose": _STR, "id": _STR},
    "suggested_questions": {"questions": _LIST},
    "error": {"type": _STR, "error": _STR},
    "feedback": {"rating": _STR},
    "query_result": {"statement_id": _STR, "row_count": _INT},
}
USER_FIELDS: dict[str, Any] = {"userName": _STR, "displayName": _STR, "emails": _LIST}


def _int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit() and len(value) <= 20:
        return int(value)
    raise Malformed(f"{where} is {type(value).__name__}, expected an integer")


def _check(obj: Any, fields: dict[str, Any], where: str) -> None:
    if not isinstance(obj, dict):
        raise Malformed(f"{where} is {type(obj).__name__}, expected an object")
    for key, kind in fields.items():
        value = obj.get(key)
        if value is None:
            continue
        name = f"{where}.{key}"
        if kind == _INT:
            _int(value, name)
        elif not isinstance(value, kind):
            raise Malformed(f"{name} is {type(value).__name__}, expected {'a list' if kind is _LIST else 'an object' if kind is _DICT else 'a string'}")
        if key in NESTED_FIELDS and kind is _DICT:
            _check(value, NESTED_FIELDS[key], name)


def _check_message(m: Any) -> None:
    _check(m, MESSAGE_FIELDS, "message")
    for i, a in enumerate(m.get("attachments") or []):
        _check(a, ATTACHMENT_FIELDS, f"attachments[{i}]")
        questions = (a.get("suggested_questions") or {}).get("questions") or []
        if not all(isinstance(q, str) for q in questions):
            raise Malformed(f"attachments[{i}].suggested_questions.questions holds a non-string")


def _check_user(user: Any) -> None:
    if user is None:
        return
    _check(user, USER_FIELDS, "user")
    for i, e in enumerate(user.get("emails") or []):
        _check(e, {"value": _STR}, f"user.emails[{i}]")


def message_problem(body: Any) -> str | None:
    """Why a GenieMessage body is not of the documented shape (a short, value-free text), or None."""
    try:
        _check_message(body)
    except Malformed as exc:
        return str(exc)
    return None


def user_problem(user: Any) -> str | None:
    """Why a SCIM user body is not of the documented shape, or None (``None`` itself is an unknown user)."""
    try:
        _check_user(user)
    except Malformed as exc:
        return str(exc)
    return None


def _ms_to_ts(value: Any, where: str) -> dt.datetime | None:
    ms = _int(value, where)
    return dt.datetime.fromtimestamp(ms / 1000, UTC) if ms else None


def _user_email(user: dict[str, Any] | None) -> str | None:
    if not user:
        return None
    for e in user.get("emails") or []:
        if isinstance(e, dict) and e.get("primary") and e.get("value"):
            return str(e["value"])
    return user.get("userName")


def message_row(o: FetchOutcome) -> dict[str, Any]:
    """The ``message_details`` row of a fetched message; raises :class:`Malformed` on a body of the wrong shape."""
    m = o.message or {}
    _check_message(m)
    _check_user(o.user)
    attachments = list(m.get("attachments") or [])
    query = next((a["query"] for a in attachments if a.get("query")), {})
    texts = [a["text"].get("content") for a in attachments if a.get("text")
             and a["text"].get("purpose", "TEXT_ATTACHMENT_PURPOSE_ANSWER") != "FOLLOW_UP_QUESTION"]
    suggested = next((a["suggested_questions"].get("questions") for a in attachments
                      if a.get("suggested_questions")), None)
    error = m.get("error") or {}
    status = str(m.get("status"))
    asker = _user_email(o.user)
    audit = o.ref.audit_asker_email
    return {
        "workspace_id": o.ref.workspace_id, "message_id": o.ref.message_id, "space_id": m.get("space_id") or o.ref.space_id,
        "conversation_id": m.get("conversation_id") or o.ref.conversation_id, "first_seen_date": o.ref.first_seen_date,
        "content": m.get("content"), "status": status, "is_final": status in FINAL,
        "created_timestamp": _int(m.get("created_timestamp"), "created_timestamp"),
        "last_updated_timestamp": _int(m.get("last_updated_timestamp"), "last_updated_timestamp"),
        "created_at": _ms_to_ts(m.get("created_timestamp"), "created_timestamp"),
        "updated_at": _ms_to_ts(m.get("last_updated_timestamp"), "last_updated_timestamp"),
        "user_id": _int(m.get("user_id"), "user_id"), "asker_user_name": asker,
        "asker_display_name": (o.user or {}).get("displayName"), "audit_asker_email": audit,
        "asker_differs_from_audit": bool(asker and audit and asker.lower() != audit.lower()),
        "query_sql": query.get("query"), "query_title": query.get("title"), "query_description": query.get("description"),
        "statement_id": query.get("statement_id") or (m.get("query_result") or {}).get("statement_id"),
        "query_row_count": _int((query.get("query_result_metadata") or {}).get("row_count"), "row_count"),
        "text_answer": "\n\n".join(t for t in texts if t) or None,
        "suggested_questions": json.dumps(suggested) if suggested else None,
        "error_type": error.get("type"), "error_message": error.get("error"),
        "feedback_rating": (m.get("feedback") or {}).get("rating"),
        "attachments_count": len(attachments), "attachments_json": json.dumps(attachments, sort_keys=True),
        "discovered_via": o.ref.discovered_via, "first_fetched_at": o.fetched_at, "fetched_at": o.fetched_at,
        "fetch_attempts": o.attempts,
    }


def shape(o: FetchOutcome) -> FetchOutcome:
    """The outcome with its row converted against :func:`message_schema`, or, if the answer cannot be stored
    (wrong types, lone surrogates, out-of-range numbers), a ``MALFORMED_RESPONSE`` error of that message.
    A :class:`RowShapeError` (code and DDL disagree) is raised: it is no message's fault."""
    if o.error is not None or o.row is not None:
        return o
    schema = message_schema()
    try:
        row = conform(message_row(o), schema, MESSAGES_TABLE)
        batch = pa.RecordBatch.from_pylist([row], schema=schema)
    except RowShapeError:
        raise
    except Malformed as exc:
        problem = str(exc)
    except Exception as exc:  # Arrow, UTF-8, datetime range: name the kind of failure, never the content
        problem = f"cannot be stored ({type(exc).__name__})"
    else:
        o.row = batch
        return o
    return FetchOutcome(o.ref, o.fetched_at, o.attempts,
                        error=GenieApiError(MALFORMED_RESPONSE, f"message body {problem}"[:300], 200))


def _text(value: str | None) -> str | None:
    """Text that UTF-8 (Arrow, Parquet, the warehouse) can store: a server's error text may hold lone surrogates."""
    return value.encode("utf-8", "replace").decode("utf-8") if value is not None else None


def error_row(o: FetchOutcome) -> dict[str, Any]:
    assert o.error is not None
    e = o.error
    return {
        "workspace_id": o.ref.workspace_id, "message_id": o.ref.message_id, "space_id": o.ref.space_id,
        "conversation_id": o.ref.conversation_id, "first_seen_date": o.ref.first_seen_date,
        "error_type": e.error_type, "http_status": e.http_status, "error_code": _text(e.error_code),
        "error_message": _text(e.message[:1000]), "permanent": e.permanent, "attempt_count": 1,
        "first_attempt_at": o.fetched_at, "last_attempt_at": o.fetched_at, "resolved": False, "resolved_at": None,
    }


def to_tables(outcomes: Sequence[FetchOutcome]) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(messages fetched, errors, errors resolved by this batch) as Arrow tables ready to stage.

    Outcomes not shaped yet are shaped here, one by one: a message that cannot be stored becomes an error
    row instead of failing the batch."""
    shaped = [shape(o) for o in outcomes]
    ok = [o for o in shaped if o.error is None]
    bad = [o for o in shaped if o.error is not None]
    messages = pa.Table.from_batches([o.row for o in ok if o.row is not None], schema=message_schema())
    errors_schema = error_schema()
    errors = pa.Table.from_pylist([conform(error_row(o), errors_schema, ERRORS_TABLE) for o in bad],
                                  schema=errors_schema)
    resolved = pa.Table.from_pylist(
        [{"workspace_id": o.ref.workspace_id, "message_id": o.ref.message_id, "resolved_at": o.fetched_at,
          "attempts": 1} for o in ok], schema=RESOLVED_SCHEMA)
    return messages, errors, resolved
