"""Genie REST endpoints (genie-api.md §1) and the SCIM user lookup, as handlers over WorkspaceState.

Every handler validates path ids first (32 lowercase hex, else 400), then existence (404
``RESOURCE_DOES_NOT_EXIST``, also for deleted spaces and everything under them), then permission (403
``PERMISSION_DENIED``), then the body, and only then changes anything; a throttled question changes
nothing. The route table at the bottom names each route's kind (for faults and statistics) and its
``aibiGenie`` audit action.
"""

from __future__ import annotations

import re
from typing import Any

from ..model import Conversation, Message, Space, ms
from . import wire
from .paging import page_size, paginate
from .protocol import ApiError, Response, denied, invalid, json_response, not_found
from .results import statement_response
from .routing import Call, Route, route

HEX32 = re.compile(r"^[0-9a-f]{32}$")
RATINGS = frozenset({"POSITIVE", "NEGATIVE", "NONE"})
G = "/api/2.0/genie/spaces"
CONV = G + "/{space_id}/conversations/{conversation_id}"
MSG = CONV + "/messages/{message_id}"


# -- lookups shared by the handlers ------------------------------------------------------------------
def _path_id(call: Call, name: str, what: str) -> str:
    value = call.path[name]
    if not HEX32.match(value):
        raise invalid(f"Invalid {what} id {value!r}: expected 32 lowercase hexadecimal characters")
    return value


def _gone(call: Call, space: Space | None) -> bool:
    faults = call.app.limiter.config
    return space is None or space.deleted or space.space_id in faults.deleted_space_ids or space.create_time > call.now


def _space(call: Call) -> Space:
    space_id = _path_id(call, "space_id", "space")
    space = call.app.state.spaces.get(space_id)
    if _gone(call, space):
        raise not_found(f"Genie space {space_id} does not exist.")
    assert space is not None
    if space_id in call.app.limiter.config.revoked_space_ids:
        raise denied(f"User {call.caller.identity} does not have CAN VIEW permission on Genie space {space_id}.")
    return space


def _conversation(call: Call, space: Space) -> Conversation:
    cid = _path_id(call, "conversation_id", "conversation")
    conv = call.app.state.conversations.get(cid)
    if conv is None or conv.space_id != space.space_id or conv.created_at > call.now:
        raise not_found(f"Conversation {cid} does not exist.")
    if conv.user_id != call.caller.user_id and not call.caller.can_manage:
        raise denied(f"User {call.caller.identity} cannot access conversation {cid} of another user.")
    return conv


def _message(call: Call) -> Message:
    conv = _conversation(call, _space(call))
    mid = _path_id(call, "message_id", "message")
    m = call.app.state.messages.get(mid)
    if m is None or m.conversation_id != conv.conversation_id or m.created_at > call.now:
        raise not_found(f"Message {mid} does not exist.")
    return m


def _content(call: Call) -> str:
    content = call.request.json_body().get("content")
    if not isinstance(content, str) or not content.strip():
        raise invalid("content is required and must be a non-empty string")
    return content


def _with_next(payload: dict[str, Any], token: str | None) -> dict[str, Any]:
    if token:
        payload["next_page_token"] = token
    return payload


# -- spaces ------------------------------------------------------------------------------------------
def list_spaces(call: Call) -> Response:
    state, req = call.app.state, call.request
    revoked = call.app.limiter.config.revoked_space_ids
    visible = [s for s in state.spaces.values() if not _gone(call, s) and s.space_id not in revoked]
    size = page_size(req.int_param("page_size"), strict_max=False)
    page, token = paginate(visible, lambda s: (ms(s.create_time), s.space_id), size, req.query.get("page_token"))
    spaces = [wire.space_json(s, state.email_of(s.owner_user_id), include_serialized=False) for s in page]
    return json_response(_with_next({"spaces": spaces}, token))


def get_space(call: Call) -> Response:
    space = _space(call)
    include = call.request.bool_param("include_serialized_space")
    if include and not call.caller.can_manage:
        raise denied(f"User {call.caller.identity} needs CAN EDIT on Genie space {space.space_id} to read serialized_space.")
    return json_response(wire.space_json(space, call.app.state.email_of(space.owner_user_id), include_serialized=include))


def create_space(call: Call) -> Response:
    body = call.request.json_body()
    call.audit_params.update({k: str(body[k]) for k in ("title", "warehouse_id") if body.get(k)})
    space = call.app.state.create_space(call.caller, body, call.now)
    return json_response(wire.space_json(space, call.caller.identity, include_serialized=True))


def update_space(call: Call) -> Response:
    space = _space(call)
    if not call.caller.can_manage:
        raise denied(f"User {call.caller.identity} needs CAN EDIT on Genie space {space.space_id}.")
    body = call.request.json_body()
    etag = body.get("etag")
    if etag and etag != wire.space_etag(space):
        raise ApiError(409, "ABORTED", f"Genie space {space.space_id} was modified since etag {etag!r} was read; "
                                       "get the space again and retry with the new etag.")
    call.app.state.update_space(space, body, call.now)
    return json_response(wire.space_json(space, call.app.state.email_of(space.owner_user_id), include_serialized=True))


def trash_space(call: Call) -> Response:
    space = _space(call)
    if not call.caller.can_manage:
        raise denied(f"User {call.caller.identity} needs CAN MANAGE on Genie space {space.space_id}.")
    space.deleted = True
    return json_response({})


# -- conversations and messages ----------------------------------------------------------------------
def start_conversation(call: Call) -> Response:
    space = _space(call)
    content = _content(call)
    call.app.admit_question()
    conv, m = call.app.state.ask(space, call.caller.as_user(), content, call.now)
    call.audit_params["conversation_id"] = conv.conversation_id
    return json_response({
        "conversation_id": conv.conversation_id,
        "message_id": m.message_id,
        "conversation": wire.conversation_json(conv, m.created_at),
        "message": wire.message_json(m, call.now),
    })


def create_message(call: Call) -> Response:
    space = _space(call)
    conv = _conversation(call, space)
    if conv.user_id != call.caller.user_id:
        raise denied(f"User {call.caller.identity} cannot add messages to another user's conversation.")
    content = _content(call)
    call.app.admit_question()
    _, m = call.app.state.ask(space, call.caller.as_user(), content, call.now, conversation=conv)
    return json_response(wire.message_json(m, call.now))


def get_message(call: Call) -> Response:
    return json_response(wire.message_json(_message(call), call.now))


def list_conversations(call: Call) -> Response:
    space, req = _space(call), call.request
    include_all = req.bool_param("include_all")
    if include_all and not call.caller.can_manage:
        raise denied(f"User {call.caller.identity} needs CAN MANAGE on Genie space {space.space_id} to list all conversations.")
    size = page_size(req.int_param("page_size"), strict_max=True)
    convs = [c for c in call.app.state.conversations_by_space.get(space.space_id, [])
             if c.created_at <= call.now and (include_all or c.user_id == call.caller.user_id)]
    page, token = paginate(convs, lambda c: (-ms(c.created_at), c.conversation_id), size, req.query.get("page_token"))
    return json_response(_with_next({"conversations": [wire.conversation_summary_json(c) for c in page]}, token))


def list_messages(call: Call) -> Response:
    """``{messages: [GenieMessage], next_page_token?}``, oldest first; each item is the very body GET message
    answers. A ``rewrite_body`` hook aimed at one message (kind ``get_message``) rewrites that message wherever
    it is answered, so a hostile message is hostile in the listing too (a hook aimed at ``list_messages``
    rewrites the whole page, as for any route)."""
    conv, req = _conversation(call, _space(call)), call.request
    size = page_size(req.int_param("page_size"), strict_max=False)
    msgs = [m for m in call.app.state.messages_by_conversation.get(conv.conversation_id, []) if m.created_at <= call.now]
    page, token = paginate(msgs, lambda m: (ms(m.created_at), m.message_id), size, req.query.get("page_token"))
    hook = call.app.limiter.config.rewrite_body
    if hook is None:
        return json_response(_with_next({"messages": [wire.message_json(m, call.now) for m in page]}, token))
    items = []
    for m in page:
        item = json_response(wire.message_json(m, call.now)).body
        params = {"space_id": m.space_id, "conversation_id": m.conversation_id, "message_id": m.message_id}
        items.append(hook("get_message", params, item) or item)
    resp = json_response(_with_next({"messages": []}, token))
    resp.body = resp.body.replace(b'"messages":[]', b'"messages":[' + b",".join(items) + b"]", 1)
    return resp


def send_feedback(call: Call) -> Response:
    m = _message(call)
    if m.user_id != call.caller.user_id:
        raise denied(f"User {call.caller.identity} can only rate their own messages.")
    body = call.request.json_body()
    rating = body.get("rating")
    if rating not in RATINGS:
        raise invalid(f"rating must be one of {sorted(RATINGS)}, got {rating!r}")
    if "comment" in body and not isinstance(body["comment"], str):
        raise invalid("comment must be a string")
    call.app.state.rate(m, rating, call.now)
    call.audit_params["feedback_rating"] = rating
    return json_response({})


def query_result(call: Call) -> Response:
    """Valid while the query runs and after; the attachment exists once Genie wrote the SQL."""
    m = _message(call)
    aid = _path_id(call, "attachment_id", "attachment") if "attachment_id" in call.path else m.query_attachment_id
    status = m.status_at(call.now)
    if not (m.sql and status in wire.SQL_STATUSES and aid == m.query_attachment_id):
        raise not_found(f"Query attachment {aid} of message {m.message_id} does not exist.")
    return json_response({"statement_response": statement_response(m, status)})


# -- SCIM --------------------------------------------------------------------------------------------
def scim_user(call: Call) -> Response:
    raw = call.path["user_id"]
    user = call.app.state.users.get(int(raw)) if raw.isdigit() else None
    if user is None:
        raise ApiError(404, "SCIM_404", f"User {raw} not found.", body=wire.scim_error(404, f"User {raw} not found."))
    return json_response(wire.scim_user_json(user), headers={"Content-Type": "application/scim+json"})


ROUTES: tuple[Route, ...] = (
    route("GET", G, "list_spaces", list_spaces, "genieListSpaces"),
    route("POST", G, "create_space", create_space, "genieCreateSpace"),
    route("GET", G + "/{space_id}", "get_space", get_space, "genieGetSpace"),
    route("PATCH", G + "/{space_id}", "update_space", update_space, "genieUpdateSpace"),
    route("DELETE", G + "/{space_id}", "trash_space", trash_space, "genieTrashSpace"),
    route("POST", G + "/{space_id}/start-conversation", "start_conversation", start_conversation,
          "genieStartConversationMessage"),
    route("GET", G + "/{space_id}/conversations", "list_conversations", list_conversations, "genieListConversations"),
    route("POST", CONV + "/messages", "create_message", create_message, "genieCreateConversationMessage"),
    route("GET", CONV + "/messages", "list_messages", list_messages, "genieListConversationMessages"),
    route("GET", MSG, "get_message", get_message, "genieGetConversationMessage"),
    route("POST", MSG + "/feedback", "send_feedback", send_feedback, "genieSendMessageFeedback"),
    route("GET", MSG + "/attachments/{attachment_id}/query-result", "query_result", query_result,
          "genieGetMessageAttachmentQueryResult"),
    route("GET", MSG + "/query-result/{attachment_id}", "query_result", query_result, "genieGetMessageQueryResult"),
    route("GET", MSG + "/query-result", "query_result", query_result, "genieGetMessageQueryResult"),
    route("GET", "/api/2.0/preview/scim/v2/Users/{user_id}", "scim_user", scim_user),
)
