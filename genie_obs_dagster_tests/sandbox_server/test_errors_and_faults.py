"""Errors map to the SDK's own exception classes; limits and injected faults behave like a real workspace."""

from __future__ import annotations

import time

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    BadRequest,
    InternalError,
    InvalidParameterValue,
    NotFound,
    PermissionDenied,
    ResourceDoesNotExist,
    TooManyRequests,
)

from genie_obs_dagster.sandbox.model import Message, Scenario
from genie_obs_dagster.sandbox.server import Fault, SimulatedDatabricks, WorkspaceFaults

from .conftest import NO_LIMITS, bearer, sdk_client

G = "/api/2.0/genie/spaces"


def _first_message(scenario: Scenario, wid: str) -> Message:
    return next(m for m in scenario.messages if m.workspace_id == wid)


def test_deleted_space_is_gone_with_everything_under_it(w: WorkspaceClient, sim: SimulatedDatabricks,
                                                        scenario: Scenario, wid: str) -> None:
    m = _first_message(scenario, wid)
    space = next(s for s in scenario.spaces if s.space_id == m.space_id)
    space.deleted = True
    for call in (lambda: w.genie.get_space(m.space_id),
                 lambda: w.genie.get_message(m.space_id, m.conversation_id, m.message_id),
                 lambda: w.genie.list_conversations(m.space_id),
                 lambda: w.genie.start_conversation(m.space_id, "hello?")):
        with pytest.raises(ResourceDoesNotExist):
            call()
    assert m.space_id not in {s.space_id for s in w.genie.list_spaces(page_size=100).spaces}
    # The same through the faults knob, for spaces the scenario keeps.
    other = next(s for s in scenario.spaces if s.workspace_id == wid and not s.deleted)
    sim.set_faults(wid, WorkspaceFaults(requests_per_second=None, deleted_space_ids=frozenset({other.space_id})))
    with pytest.raises(ResourceDoesNotExist):
        w.genie.get_space(other.space_id)


def test_revoked_space_is_permission_denied(w: WorkspaceClient, sim: SimulatedDatabricks, scenario: Scenario, wid: str) -> None:
    m = _first_message(scenario, wid)
    sim.set_faults(wid, WorkspaceFaults(requests_per_second=None, revoked_space_ids=frozenset({m.space_id})))
    with pytest.raises(PermissionDenied):
        w.genie.get_space(m.space_id)
    with pytest.raises(PermissionDenied):
        w.genie.get_message(m.space_id, m.conversation_id, m.message_id)
    assert m.space_id not in {s.space_id for s in w.genie.list_spaces(page_size=100).spaces}


def test_unknown_and_malformed_ids(w: WorkspaceClient, scenario: Scenario, wid: str) -> None:
    m = _first_message(scenario, wid)
    missing = "0123456789abcdef0123456789abcdef"
    with pytest.raises(ResourceDoesNotExist):
        w.genie.get_message(m.space_id, m.conversation_id, missing)
    with pytest.raises(ResourceDoesNotExist):
        w.genie.get_message(m.space_id, missing, m.message_id)
    with pytest.raises(ResourceDoesNotExist):
        w.genie.get_space(missing)
    other_conv = next(c for c in scenario.conversations if c.space_id == m.space_id and c.conversation_id != m.conversation_id)
    with pytest.raises(ResourceDoesNotExist):  # a message is only found under its own conversation
        w.genie.get_message(m.space_id, other_conv.conversation_id, m.message_id)
    for bad in ("not-an-id", m.space_id.upper(), m.space_id[:-1]):
        with pytest.raises(InvalidParameterValue):
            w.genie.get_space(bad)
    with pytest.raises(BadRequest):
        w.genie.get_message(m.space_id, m.conversation_id, "xyz")
    with pytest.raises(BadRequest):
        w.api_client.do("GET", G, query={"page_token": "%%%garbage"})


def test_unknown_route_is_endpoint_not_found(sim: SimulatedDatabricks, wid: str, w: WorkspaceClient) -> None:
    url = sim.urls[wid]
    resp = requests.get(f"{url}/api/2.0/genie/unknown", headers=bearer(url, sim.client_id, sim.client_secret), timeout=5)
    assert resp.status_code == 404 and resp.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert resp.json()["details"][0]["@type"] == "type.googleapis.com/google.rpc.RequestInfo"
    with pytest.raises(NotFound):
        w.api_client.do("PUT", f"{G}")
    assert requests.get(f"{url}/favicon.ico", timeout=5).status_code == 404


def test_question_limit_is_429_with_retry_after_and_the_sdk_waits(make_sim, scenario: Scenario, wid: str) -> None:  # type: ignore[no-untyped-def]
    sim = make_sim(faults=WorkspaceFaults(requests_per_second=None, questions_per_window=1, question_window_s=1.0))
    w = sdk_client(sim.urls[wid], sim.client_id, sim.client_secret)
    space_id = _first_message(scenario, wid).space_id
    w.genie.start_conversation(space_id, "first question")
    started = time.monotonic()
    second = w.genie.start_conversation(space_id, "second question")  # 429, Retry-After: 1, then admitted
    assert time.monotonic() - started >= 1.0
    assert second.response.message_id
    stats = sim.stats(wid)
    assert stats.throttled == 1 and stats.by_kind["start_conversation"] == 3
    rows = [r for r in sim.emitted_audit_events(wid) if r["action_name"] == "genieStartConversationMessage"]
    assert [r["response"]["status_code"] for r in rows] == [200, 429, 200]
    assert rows[1]["request_params"] == {"space_id": space_id}  # a refused ask created nothing
    assert rows[1]["response"]["error_message"].startswith("REQUEST_LIMIT_EXCEEDED")
    assert sum(m.content == "second question" for m in scenario.messages) == 1


def test_429_raw_shape_and_exhausted_retries(make_sim, scenario: Scenario, wid: str) -> None:  # type: ignore[no-untyped-def]
    sim = make_sim(faults=WorkspaceFaults(requests_per_second=None, faults=(Fault("429", kinds=frozenset({"get_space"}), retry_after_s=1),)))
    url, space_id = sim.urls[wid], _first_message(scenario, wid).space_id
    resp = requests.get(f"{url}{G}/{space_id}", headers=bearer(url, sim.client_id, sim.client_secret), timeout=5)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    assert resp.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    w = sdk_client(url, sim.client_id, sim.client_secret, retry_timeout_seconds=1)
    with pytest.raises(TimeoutError) as caught:
        w.genie.get_space(space_id)
    assert isinstance(caught.value.__cause__, TooManyRequests)
    w.genie.list_spaces()  # other kinds are untouched


def test_request_rate_limit_token_bucket(make_sim, wid: str) -> None:  # type: ignore[no-untyped-def]
    sim = make_sim(faults=WorkspaceFaults(requests_per_second=5, burst=5, questions_per_window=None))
    url = sim.urls[wid]
    session = requests.Session()
    session.headers.update(bearer(url, sim.client_id, sim.client_secret))
    statuses = [session.get(f"{url}{G}", timeout=5) for _ in range(8)]
    assert [r.status_code for r in statuses[:5]] == [200] * 5
    throttled = [r for r in statuses if r.status_code == 429]
    assert throttled and all(r.headers["Retry-After"] == "1" for r in throttled)
    assert sim.stats(wid).throttled == len(throttled)


def test_injected_5xx_are_targeted_limited_and_mapped(make_sim, scenario: Scenario, wid: str) -> None:  # type: ignore[no-untyped-def]
    m = _first_message(scenario, wid)
    faults = (Fault("500", kinds=frozenset({"get_message"}), limit=1), Fault("503", kinds=frozenset({"get_space"}), limit=1))
    sim = make_sim(faults=WorkspaceFaults(requests_per_second=None, faults=faults))
    w = sdk_client(sim.urls[wid], sim.client_id, sim.client_secret)
    with pytest.raises(InternalError):  # 500 is not retried by the SDK
        w.genie.get_message(m.space_id, m.conversation_id, m.message_id)
    assert w.genie.get_message(m.space_id, m.conversation_id, m.message_id).message_id == m.message_id
    assert w.genie.get_space(m.space_id).space_id == m.space_id  # 503 then retried after Retry-After
    assert sim.stats(wid).by_status[503] == 1


def test_transport_faults(make_sim, scenario: Scenario, wid: str) -> None:  # type: ignore[no-untyped-def]
    m = _first_message(scenario, wid)
    sim = make_sim(faults=NO_LIMITS)
    url = sim.urls[wid]
    path = f"{url}{G}/{m.space_id}/conversations/{m.conversation_id}/messages/{m.message_id}"
    headers = bearer(url, sim.client_id, sim.client_secret)

    def only(effect: str, **kw: object) -> None:
        sim.set_faults(wid, WorkspaceFaults(requests_per_second=None,
                                            faults=(Fault(effect, kinds=frozenset({"get_message"}), limit=1, **kw),)))  # type: ignore[arg-type]

    only("truncate")
    cut = requests.get(path, headers=headers, timeout=5)
    assert cut.status_code == 200 and len(cut.content) == int(cut.headers["Content-Length"])
    with pytest.raises(requests.JSONDecodeError):
        cut.json()
    only("malformed")
    with pytest.raises(requests.JSONDecodeError):
        requests.get(path, headers=headers, timeout=5).json()
    only("short_read")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(path, headers=headers, timeout=5)
    only("drop")
    with pytest.raises(requests.ConnectionError):
        requests.get(path, headers=headers, timeout=5)
    only("timeout", delay_s=2.0)
    with pytest.raises(requests.ReadTimeout):
        requests.get(path, headers=headers, timeout=0.3)
    assert requests.get(path, headers=headers, timeout=5).json()["message_id"] == m.message_id
    # The SDK retries a dropped connection on its own.
    only("drop")
    w = sdk_client(url, sim.client_id, sim.client_secret)
    assert w.genie.get_message(m.space_id, m.conversation_id, m.message_id).message_id == m.message_id


def test_latency_is_added_to_every_answer(make_sim, wid: str) -> None:  # type: ignore[no-untyped-def]
    sim = make_sim(faults=WorkspaceFaults(requests_per_second=None, latency_s=0.15, jitter_s=0.05))
    started = time.monotonic()
    assert requests.get(f"{sim.urls[wid]}/.well-known/databricks-config", timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.15  # a floor only: a busy machine may take longer, never less


def test_fault_draws_are_deterministic_when_seeded(make_sim, scenario: Scenario, wid: str) -> None:  # type: ignore[no-untyped-def]
    space_id = _first_message(scenario, wid).space_id

    def statuses(seed: int) -> list[int]:
        sim = make_sim(faults=WorkspaceFaults(requests_per_second=None, seed=seed, faults=(Fault("500", rate=0.5, kinds=frozenset({"get_space"})),)))
        url = sim.urls[wid]
        session = requests.Session()
        session.headers.update(bearer(url, sim.client_id, sim.client_secret))
        return [session.get(f"{url}{G}/{space_id}", timeout=5).status_code for _ in range(24)]

    first = statuses(3)
    assert first == statuses(3)
    assert 0 < first.count(500) < 24 and first != statuses(4)


def test_unknown_fault_kinds_and_effects_are_rejected(scenario: Scenario) -> None:
    with pytest.raises(ValueError, match="unknown route kinds"):
        SimulatedDatabricks(scenario).set_faults(scenario.workspaces[0].workspace_id,
                                                 WorkspaceFaults(faults=(Fault("500", kinds=frozenset({"get_mesage"})),)))
    with pytest.raises(ValueError, match="unknown fault effect"):
        Fault("404")
