"""JSON shapes of Genie and SCIM objects, exactly as a Databricks workspace puts them on the wire.

Conventions followed (genie-api.md §2): ids are 32 lowercase hex; message and conversation times are
epoch milliseconds; space times are RFC 3339 with ``Z``; ``serialized_space`` is a JSON *string*; empty
or unset fields are omitted (proto3 JSON); ``id`` duplicates ``message_id`` / ``conversation_id``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from ..model import Conversation, Message, Space, User, ms
from ..scenario import serialized_space_json

UTC = dt.timezone.utc
SQL_STATUSES = frozenset({"PENDING_WAREHOUSE", "EXECUTING_QUERY", "COMPLETED", "FAILED"})  # query attachment visible


def rfc3339(ts: dt.datetime) -> str:
    """``2025-01-02T03:04:05Z`` or ``...05.123Z``: what protobuf's Timestamp JSON parser accepts."""
    ts = ts.astimezone(UTC)
    base = ts.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{ts.microsecond // 1000:03d}Z" if ts.microsecond else f"{base}Z"


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def space_etag(space: Space) -> str:
    """Changes whenever anything PATCH can change does, so stale writers are detected."""
    basis = "\x1f".join((space.title, space.description, space.warehouse_id, serialized_space_json(space),
                         rfc3339(space.update_time)))
    return hashlib.sha256(basis.encode()).hexdigest()[:20]


def space_json(space: Space, owner_email: str, *, include_serialized: bool) -> dict[str, Any]:
    out = {
        "space_id": space.space_id,
        "title": space.title,
        "description": space.description or None,
        "warehouse_id": space.warehouse_id,
        "create_time": rfc3339(space.create_time),
        "update_time": rfc3339(space.update_time),
        "etag": space_etag(space),
        "parent_path": f"/Workspace/Users/{owner_email}",
    }
    if include_serialized:
        out["serialized_space"] = serialized_space_json(space)
    return _compact(out)


def conversation_json(conv: Conversation, last_updated: dt.datetime) -> dict[str, Any]:
    """GenieConversation, as embedded in the start-conversation answer."""
    return {
        "conversation_id": conv.conversation_id,
        "id": conv.conversation_id,
        "space_id": conv.space_id,
        "user_id": conv.user_id,
        "title": conv.title,
        "created_timestamp": ms(conv.created_at),
        "last_updated_timestamp": ms(last_updated),
    }


def conversation_summary_json(conv: Conversation) -> dict[str, Any]:
    """GenieConversationSummary (list items carry no user id)."""
    return {
        "conversation_id": conv.conversation_id,
        "title": conv.title,
        "created_timestamp": ms(conv.created_at),
        "agent_type": "GENIE_CONVERSATION_TYPE_CHAT",
    }


def _query_attachment(m: Message, status: str) -> dict[str, Any]:
    query = _compact({
        "query": m.sql,
        "title": m.content.rstrip("?")[:80],
        "description": m.sql_description,
        "statement_id": m.statement_id,
        "query_result_metadata": {"row_count": m.row_count, "is_truncated": False} if status == "COMPLETED" else None,
    })
    return {"attachment_id": m.query_attachment_id, "query": query}


def attachments(m: Message, status: str) -> list[dict[str, Any]]:
    """Attachments visible at ``status``: the query once Genie wrote SQL; the answer once completed.

    Order as observed on real messages: query, suggested questions, text.
    """
    out: list[dict[str, Any]] = []
    if m.sql and status in SQL_STATUSES:
        out.append(_query_attachment(m, status))
    if status == "COMPLETED" and m.attachment_ids:
        *_, suggested_id, text_id = m.attachment_ids
        if m.suggested_questions:
            out.append({"attachment_id": suggested_id, "suggested_questions": {"questions": list(m.suggested_questions)}})
        out.append({"attachment_id": text_id, "text": {"content": m.answer_text or ""}})
    return out


def message_json(m: Message, now: dt.datetime) -> dict[str, Any]:
    """GenieMessage as reported at ``now`` (status moves with the server clock)."""
    status = m.status_at(now)
    out: dict[str, Any] = {
        "message_id": m.message_id,
        "id": m.message_id,
        "space_id": m.space_id,
        "conversation_id": m.conversation_id,
        "user_id": m.user_id,
        "content": m.content,
        "status": status,
        "created_timestamp": ms(m.created_at),
        "last_updated_timestamp": ms(m.status_since(now)),
    }
    atts = attachments(m, status)
    if atts:
        out["attachments"] = atts
    if status == "FAILED" and m.error_type:
        out["error"] = {"error": m.error_message or m.error_type, "type": m.error_type}
    if status == "COMPLETED" and m.statement_id:
        out["query_result"] = {"statement_id": m.statement_id, "row_count": m.row_count, "is_truncated": False}
    if m.feedback_rating and (m.feedback_at is None or m.feedback_at <= now):
        out["feedback"] = {"rating": m.feedback_rating}
    return out


def scim_user_json(user: User) -> dict[str, Any]:
    given, _, family = user.display_name.partition(" ")
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:workspace:2.0:User"],
        "id": str(user.user_id),
        "userName": user.email,
        "displayName": user.display_name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"type": "work", "value": user.email, "primary": True}],
        "active": True,
    }


def scim_error(status: int, detail: str) -> dict[str, Any]:
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": detail, "status": str(status)}
