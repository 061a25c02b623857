"""Contract: every Genie answer parses with databricks-sdk 0.60's own dataclasses and methods.

Endpoints or parameters 0.60 lacks (include_all, include_serialized_space, list conversation messages,
feedback, create/update space) go through ``w.api_client.do``, as production code must.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    InvalidParameterValue,
    NotFound,
    PermissionDenied,
    ResourceConflict,
    ResourceDoesNotExist,
)
from databricks.sdk.service.dashboards import (
    GenieConversation,
    GenieListConversationsResponse,
    GenieListSpacesResponse,
    GenieMessage,
    GenieSpace,
    GenieStartConversationResponse,
    MessageStatus,
)

from genie_obs_dagster.sandbox.model import Message, Scenario
from genie_obs_dagster.sandbox.scenario import serialized_space_json
from genie_obs_dagster.sandbox.server import Principal

from .conftest import ANSWER_DELAY_S, MutableClock

G = "/api/2.0/genie/spaces"


def _parse_rfc3339(value: str) -> dt.datetime:
    assert value.endswith("Z"), value
    return dt.datetime.fromisoformat(value[:-1] + "+00:00")


def _message_path(m: Message) -> str:
    return f"{G}/{m.space_id}/conversations/{m.conversation_id}/messages/{m.message_id}"


def _check_message(raw: dict[str, Any], expected: Message | None = None) -> GenieMessage:
    """The SDK parses the message and the round trip keeps ids, a known status and integer times."""
    parsed = GenieMessage.from_dict(raw)
    again = parsed.as_dict()
    for key in ("message_id", "id", "conversation_id", "space_id", "user_id", "content", "created_timestamp",
                "last_updated_timestamp"):
        assert again[key] == raw[key], key
    assert parsed.status is not None and again["status"] == raw["status"]
    assert isinstance(raw["created_timestamp"], int) and isinstance(raw["last_updated_timestamp"], int)
    assert raw["message_id"] == raw["id"] and len(raw["message_id"]) == 32
    if expected is not None:
        assert (parsed.message_id, parsed.user_id, parsed.status.value) == (expected.message_id, expected.user_id, expected.final_status)
    return parsed


def _workspace_messages(scenario: Scenario, wid: str) -> list[Message]:
    return [m for m in scenario.messages if m.workspace_id == wid]


def test_list_spaces_pages_and_parses(w: WorkspaceClient, scenario: Scenario, wid: str) -> None:
    seen, token, pages = [], None, 0
    while True:
        query = {"page_size": 3, **({"page_token": token} if token else {})}
        raw = w.api_client.do("GET", G, query=query)
        parsed = GenieListSpacesResponse.from_dict(raw)
        assert [s.space_id for s in parsed.spaces] == [s["space_id"] for s in raw["spaces"]]
        assert parsed.next_page_token == raw.get("next_page_token")
        assert all("serialized_space" not in s and s["title"] for s in raw["spaces"])
        seen += [s["space_id"] for s in raw["spaces"]]
        pages += 1
        token = raw.get("next_page_token")
        if not token:
            break
    assert pages == 2
    assert sorted(seen) == sorted(s.space_id for s in scenario.spaces if s.workspace_id == wid)
    # The typed 0.60 method returns the first page.
    first = w.genie.list_spaces(page_size=3)
    assert [s.space_id for s in first.spaces] == seen[:3] and first.next_page_token


def test_get_space_with_and_without_serialized_space(w: WorkspaceClient, scenario: Scenario, wid: str) -> None:
    space = next(s for s in scenario.spaces if s.workspace_id == wid)
    typed = w.genie.get_space(space.space_id)
    assert (typed.space_id, typed.title, typed.description) == (space.space_id, space.title, space.description)
    plain = w.api_client.do("GET", f"{G}/{space.space_id}")
    assert "serialized_space" not in plain
    full = w.api_client.do("GET", f"{G}/{space.space_id}", query={"include_serialized_space": True})
    assert isinstance(full["serialized_space"], str)
    assert full["serialized_space"] == serialized_space_json(space)
    assert json.loads(full["serialized_space"])["version"] == 2
    assert full["warehouse_id"] == space.warehouse_id and full["etag"]
    assert _parse_rfc3339(full["create_time"]) == space.create_time
    assert _parse_rfc3339(full["update_time"]) == space.update_time


def test_every_scenario_message_parses_with_the_sdk(w: WorkspaceClient, scenario: Scenario, wid: str) -> None:
    messages = _workspace_messages(scenario, wid)
    assert {m.final_status for m in messages} >= {"COMPLETED"}
    for m in messages:
        raw = w.api_client.do("GET", _message_path(m))
        parsed = _check_message(raw, m)
        assert raw["created_timestamp"] == int(m.created_at.timestamp() * 1000)
        if m.final_status == "COMPLETED":
            assert parsed.attachments and parsed.attachments[-1].text.content == m.answer_text
            assert [a.attachment_id for a in parsed.attachments] == list(m.attachment_ids)[-len(parsed.attachments):]
        if m.statement_id and m.final_status == "COMPLETED":
            query = parsed.attachments[0].query
            assert (query.statement_id, query.query, query.query_result_metadata.row_count) == (m.statement_id, m.sql, m.row_count)
            assert parsed.query_result.statement_id == m.statement_id
        if m.final_status == "FAILED":
            assert parsed.error.type is not None and parsed.error.type.value == m.error_type
    typed = w.genie.get_message(messages[0].space_id, messages[0].conversation_id, messages[0].message_id)
    assert typed.message_id == messages[0].message_id


def test_start_conversation_and_wait_polls_until_completed(w: WorkspaceClient, scenario: Scenario, wid: str,
                                                           clock: MutableClock) -> None:
    space = next(s for s in scenario.spaces if s.workspace_id == wid and s.domain == "sales")
    question = "What were total sales by region last month?"
    seen: list[MessageStatus] = []

    def progress(m: GenieMessage) -> None:  # called on each poll that is not final yet
        seen.append(m.status)
        clock.advance(seconds=ANSWER_DELAY_S)

    wait = w.genie.start_conversation(space.space_id, question)
    assert GenieStartConversationResponse.from_dict(wait.response.as_dict()).conversation_id == wait.response.conversation_id
    assert GenieConversation.from_dict(wait.response.conversation.as_dict()).title == question
    done = wait.result(callback=progress, timeout=dt.timedelta(seconds=120))  # a safety net
    assert seen == [MessageStatus.SUBMITTED]
    assert done.status == MessageStatus.COMPLETED and done.content == question
    query = done.attachments[0].query
    assert query.statement_id and "FROM sales.core.orders" in query.query
    assert done.user_id == next(m for m in scenario.messages if m.message_id == done.message_id).user_id


def test_create_message_and_list_conversation_messages(user_client: WorkspaceClient, asker: Principal,
                                                       scenario: Scenario, wid: str, clock: MutableClock) -> None:
    conv = next(c for c in scenario.conversations if c.workspace_id == wid and c.user_id == asker.user_id)
    before = [m.message_id for m in scenario.messages if m.conversation_id == conv.conversation_id]
    wait = user_client.genie.create_message(conv.space_id, conv.conversation_id, "And for the previous year?")
    assert wait.response.status == MessageStatus.SUBMITTED
    clock.advance(seconds=ANSWER_DELAY_S)
    done = wait.result(timeout=dt.timedelta(seconds=120))  # a safety net: the answer is final once the clock moved
    assert done.status == MessageStatus.COMPLETED and done.conversation_id == conv.conversation_id

    path = f"{G}/{conv.space_id}/conversations/{conv.conversation_id}/messages"
    ids, token = [], None
    while True:
        raw = user_client.api_client.do("GET", path, query={"page_size": 1, **({"page_token": token} if token else {})})
        for item in raw["messages"]:
            _check_message(item)
        ids += [item["message_id"] for item in raw["messages"]]
        token = raw.get("next_page_token")
        if not token:
            break
    assert ids == [*before, done.message_id]  # oldest first, no repeats


def test_list_conversations_mine_all_and_paging(w: WorkspaceClient, scenario: Scenario, wid: str) -> None:
    space = max((s for s in scenario.spaces if s.workspace_id == wid),
                key=lambda s: sum(c.space_id == s.space_id for c in scenario.conversations))
    everyone = {c.conversation_id for c in scenario.conversations if c.space_id == space.space_id}
    assert len(everyone) >= 2
    mine = w.genie.list_conversations(space.space_id)
    assert mine.conversations is None or mine.conversations == []  # the principal asked nothing yet

    ids, token = [], None
    while True:
        raw = w.api_client.do("GET", f"{G}/{space.space_id}/conversations",
                              query={"include_all": True, "page_size": 1, **({"page_token": token} if token else {})})
        parsed = GenieListConversationsResponse.from_dict(raw)
        assert all(isinstance(c.created_timestamp, int) and c.conversation_id for c in parsed.conversations)
        ids += [c.conversation_id for c in parsed.conversations]
        token = raw.get("next_page_token")
        if not token:
            break
    assert sorted(ids) == sorted(everyone) and len(ids) == len(set(ids))
    created = [next(c.created_at for c in scenario.conversations if c.conversation_id == i) for i in ids]
    assert created == sorted(created, reverse=True)  # newest first

    with pytest.raises(InvalidParameterValue):
        w.api_client.do("GET", f"{G}/{space.space_id}/conversations", query={"page_size": 101})
    assert len(w.api_client.do("GET", f"{G}/{space.space_id}/conversations",
                               query={"include_all": True, "page_size": 100})["conversations"]) == len(everyone)


def test_a_person_sees_only_their_own_conversations(user_client: WorkspaceClient, asker: Principal, scenario: Scenario,
                                                    wid: str) -> None:
    conv = next(c for c in scenario.conversations if c.workspace_id == wid and c.user_id == asker.user_id)
    listed = user_client.genie.list_conversations(conv.space_id, page_size=100)
    assert conv.conversation_id in {c.conversation_id for c in listed.conversations}
    assert all(c.user_id == asker.user_id for c in scenario.conversations
               if c.conversation_id in {x.conversation_id for x in listed.conversations})
    with pytest.raises(PermissionDenied):
        user_client.api_client.do("GET", f"{G}/{conv.space_id}/conversations", query={"include_all": True})
    other = next(m for m in scenario.messages if m.workspace_id == wid and m.user_id != asker.user_id)
    with pytest.raises(PermissionDenied):
        user_client.genie.get_message(other.space_id, other.conversation_id, other.message_id)
    with pytest.raises(PermissionDenied):
        user_client.api_client.do("GET", f"{G}/{conv.space_id}", query={"include_serialized_space": True})


def test_feedback_updates_the_message(user_client: WorkspaceClient, w: WorkspaceClient, asker: Principal,
                                      scenario: Scenario, wid: str) -> None:
    m = next(m for m in scenario.messages if m.workspace_id == wid and m.user_id == asker.user_id)
    answer = user_client.api_client.do("POST", _message_path(m) + "/feedback", body={"rating": "NEGATIVE", "comment": "wrong"})
    assert answer == {}
    assert m.feedback_rating == "NEGATIVE"
    assert user_client.api_client.do("GET", _message_path(m))["feedback"] == {"rating": "NEGATIVE"}
    user_client.api_client.do("POST", _message_path(m) + "/feedback", body={"rating": "NONE"})
    assert m.feedback_rating is None and "feedback" not in user_client.api_client.do("GET", _message_path(m))
    with pytest.raises(InvalidParameterValue):
        user_client.api_client.do("POST", _message_path(m) + "/feedback", body={"rating": "GREAT"})
    with pytest.raises(PermissionDenied):  # only the asker rates a message
        w.api_client.do("POST", _message_path(m) + "/feedback", body={"rating": "POSITIVE"})


def test_query_result_of_an_attachment(w: WorkspaceClient, scenario: Scenario, wid: str) -> None:
    m = next(m for m in _workspace_messages(scenario, wid) if m.final_status == "COMPLETED" and m.statement_id)
    got = w.genie.get_message_attachment_query_result(m.space_id, m.conversation_id, m.message_id, m.query_attachment_id)
    sr = got.statement_response
    assert sr.statement_id == m.statement_id and sr.status.state.value == "SUCCEEDED"
    assert sr.manifest.total_row_count == m.row_count == sr.result.row_count == len(sr.result.data_array)
    assert sr.manifest.schema.column_count == len(sr.manifest.schema.columns) == len(sr.result.data_array[0])
    assert all(isinstance(v, str) for row in sr.result.data_array for v in row)
    again = w.genie.get_message_attachment_query_result(m.space_id, m.conversation_id, m.message_id, m.query_attachment_id)
    assert again.statement_response.result.data_array == sr.result.data_array  # deterministic
    with pytest.raises(ResourceDoesNotExist):
        w.genie.get_message_attachment_query_result(m.space_id, m.conversation_id, m.message_id, "0" * 32)


def test_scim_user_lookup(w: WorkspaceClient, scenario: Scenario) -> None:
    user = scenario.users[0]
    got = w.users.get(str(user.user_id))
    assert (got.id, got.user_name, got.display_name, got.active) == (str(user.user_id), user.email, user.display_name, True)
    assert got.emails[0].value == user.email and got.emails[0].primary
    with pytest.raises(NotFound):
        w.users.get("1")


def test_create_and_update_space_with_etag(w: WorkspaceClient, scenario: Scenario, wid: str, clock: MutableClock) -> None:
    source = next(s for s in scenario.spaces if s.workspace_id == wid)
    created = w.api_client.do("POST", G, body={"warehouse_id": source.warehouse_id, "title": "Copy",
                                               "serialized_space": serialized_space_json(source)})
    assert GenieSpace.from_dict(created).title == "Copy" and json.loads(created["serialized_space"]) == source.serialized_space
    sid = created["space_id"]
    assert any(s.space_id == sid for s in scenario.spaces)
    assert sid in {s.space_id for s in w.genie.list_spaces(page_size=100).spaces}

    clock.advance(minutes=5)
    updated = w.api_client.do("PATCH", f"{G}/{sid}", body={"title": "Renamed", "etag": created["etag"]})
    assert updated["title"] == "Renamed" and updated["etag"] != created["etag"]
    assert _parse_rfc3339(updated["update_time"]) > _parse_rfc3339(created["update_time"])
    with pytest.raises(ResourceConflict):  # a writer holding the old etag loses
        w.api_client.do("PATCH", f"{G}/{sid}", body={"title": "Stale", "etag": created["etag"]})
    with pytest.raises(InvalidParameterValue):
        w.api_client.do("PATCH", f"{G}/{sid}", body={"serialized_space": "{not json"})
    with pytest.raises(InvalidParameterValue):
        w.api_client.do("POST", G, body={"serialized_space": serialized_space_json(source)})  # no warehouse
    w.genie.trash_space(sid)
    with pytest.raises(ResourceDoesNotExist):
        w.genie.get_space(sid)
