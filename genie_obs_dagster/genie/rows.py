"""Shape Genie API results into rows of ``message_details`` and ``message_fetch_errors``.

Arrow schemas are declared here so that an all-NULL column still has the right type when staged.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from .errors import GenieApiError

FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "QUERY_RESULT_EXPIRED"})
UTC = dt.timezone.utc
_S, _TS = pa.string(), pa.timestamp("us", tz="UTC")

MESSAGE_SCHEMA = pa.schema([
    ("workspace_id", _S), ("message_id", _S), ("space_id", _S), ("conversation_id", _S),
    ("first_seen_date", pa.date32()), ("content", _S), ("status", _S), ("is_final", pa.bool_()),
    ("created_timestamp", pa.int64()), ("last_updated_timestamp", pa.int64()), ("created_at", _TS), ("updated_at", _TS),
    ("user_id", pa.int64()), ("asker_user_name", _S), ("asker_display_name", _S), ("audit_asker_email", _S),
    ("asker_differs_from_audit", pa.bool_()), ("query_sql", _S), ("query_title", _S), ("query_description", _S),
    ("statement_id", _S), ("query_row_count", pa.int64()), ("text_answer", _S), ("suggested_questions", _S),
    ("error_type", _S), ("error_message", _S), ("feedback_rating", _S), ("attachments_count", pa.int32()),
    ("attachments_json", _S), ("discovered_via", _S), ("first_fetched_at", _TS), ("fetched_at", _TS),
    ("fetch_attempts", pa.int32()),
])
ERROR_SCHEMA = pa.schema([
    ("workspace_id", _S), ("message_id", _S), ("space_id", _S), ("conversation_id", _S), ("first_seen_date", pa.date32()),
    ("error_type", _S), ("http_status", pa.int32()), ("error_code", _S), ("error_message", _S),
    ("permanent", pa.bool_()), ("attempt_count", pa.int32()), ("first_attempt_at", _TS), ("last_attempt_at", _TS),
    ("resolved", pa.bool_()), ("resolved_at", _TS),
])
RESOLVED_SCHEMA = pa.schema([("workspace_id", _S), ("message_id", _S), ("resolved_at", _TS), ("attempts", pa.int32())])


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


def _ms_to_ts(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value) / 1000, UTC) if value else None


def _user_email(user: dict[str, Any] | None) -> str | None:
    if not user:
        return None
    for e in user.get("emails") or []:
        if e.get("primary") and e.get("value"):
            return str(e["value"])
    return user.get("userName")


def message_row(o: FetchOutcome) -> dict[str, Any]:
    m = o.message or {}
    attachments = [a for a in m.get("attachments") or [] if isinstance(a, dict)]
    query = next((a["query"] for a in attachments if isinstance(a.get("query"), dict)), {})
    texts = [a["text"].get("content") for a in attachments if isinstance(a.get("text"), dict)
             and a["text"].get("purpose", "TEXT_ATTACHMENT_PURPOSE_ANSWER") != "FOLLOW_UP_QUESTION"]
    suggested = next((a["suggested_questions"].get("questions") for a in attachments
                      if isinstance(a.get("suggested_questions"), dict)), None)
    error = m.get("error") if isinstance(m.get("error"), dict) else {}
    status = str(m.get("status"))
    asker = _user_email(o.user)
    audit = o.ref.audit_asker_email
    return {
        "workspace_id": o.ref.workspace_id, "message_id": o.ref.message_id, "space_id": m.get("space_id") or o.ref.space_id,
        "conversation_id": m.get("conversation_id") or o.ref.conversation_id, "first_seen_date": o.ref.first_seen_date,
        "content": m.get("content"), "status": status, "is_final": status in FINAL,
        "created_timestamp": m.get("created_timestamp"), "last_updated_timestamp": m.get("last_updated_timestamp"),
        "created_at": _ms_to_ts(m.get("created_timestamp")), "updated_at": _ms_to_ts(m.get("last_updated_timestamp")),
        "user_id": m.get("user_id"), "asker_user_name": asker,
        "asker_display_name": (o.user or {}).get("displayName"), "audit_asker_email": audit,
        "asker_differs_from_audit": bool(asker and audit and asker.lower() != audit.lower()),
        "query_sql": query.get("query"), "query_title": query.get("title"), "query_description": query.get("description"),
        "statement_id": query.get("statement_id") or (m.get("query_result") or {}).get("statement_id"),
        "query_row_count": (query.get("query_result_metadata") or {}).get("row_count"),
        "text_answer": "\n\n".join(t for t in texts if t) or None,
        "suggested_questions": json.dumps(suggested) if suggested else None,
        "error_type": error.get("type"), "error_message": error.get("error"),
        "feedback_rating": (m.get("feedback") or {}).get("rating"),
        "attachments_count": len(attachments), "attachments_json": json.dumps(attachments, sort_keys=True),
        "discovered_via": o.ref.discovered_via, "first_fetched_at": o.fetched_at, "fetched_at": o.fetched_at,
        "fetch_attempts": o.attempts,
    }


def error_row(o: FetchOutcome) -> dict[str, Any]:
    assert o.error is not None
    e = o.error
    return {
        "workspace_id": o.ref.workspace_id, "message_id": o.ref.message_id, "space_id": o.ref.space_id,
        "conversation_id": o.ref.conversation_id, "first_seen_date": o.ref.first_seen_date,
        "error_type": e.error_type, "http_status": e.http_status, "error_code": e.error_code,
        "error_message": e.message[:1000], "permanent": e.permanent, "attempt_count": 1,
        "first_attempt_at": o.fetched_at, "last_attempt_at": o.fetched_at, "resolved": False, "resolved_at": None,
    }


def to_tables(outcomes: Sequence[FetchOutcome]) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(messages fetched, errors, errors resolved by this batch) as Arrow tables ready to stage."""
    ok = [o for o in outcomes if o.error is None]
    bad = [o for o in outcomes if o.error is not None]
    messages = pa.Table.from_pylist([message_row(o) for o in ok], schema=MESSAGE_SCHEMA)
    errors = pa.Table.from_pylist([error_row(o) for o in bad], schema=ERROR_SCHEMA)
    resolved = pa.Table.from_pylist(
        [{"workspace_id": o.ref.workspace_id, "message_id": o.ref.message_id, "resolved_at": o.fetched_at,
          "attempts": 1} for o in ok], schema=RESOLVED_SCHEMA)
    return messages, errors, resolved
