"""Issue 11: pending messages of one conversation are answered by one conversation-messages listing instead of one
GET each, with exactly the per-message path's results (a malformed item fails its message only, a message the
listing does not show falls back to its own GET), and a fresh client's first burst stays within the server's limit."""

from __future__ import annotations

import json
import time as wall
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from genie_obs_dagster.genie import errors as E
from genie_obs_dagster.genie.budget import RequestBudget
from genie_obs_dagster.genie.client import GenieClient
from genie_obs_dagster.genie.fetch import FetchSummary, fetch_conversation, fetch_messages
from genie_obs_dagster.genie.rows import FetchOutcome, MessageRef
from genie_obs_dagster.sandbox.model import Message, Scenario
from genie_obs_dagster.sandbox.server import Fault, SimulatedDatabricks, WorkspaceFaults

from . import test_genie_client as client_tests
from .conftest import START, WORKSPACES, ApiEnv, make_scenario

WS = WORKSPACES[0]
NO_LIMIT = WorkspaceFaults(requests_per_second=None)
ROW_KEYS_IGNORED = {"fetched_at", "first_fetched_at"}


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return make_scenario(days=3, questions_per_day=30)


@pytest.fixture
def sim_factory(scenario: Scenario) -> Iterator[Callable[[WorkspaceFaults], SimulatedDatabricks]]:
    sims: list[SimulatedDatabricks] = []

    def make(faults: WorkspaceFaults) -> SimulatedDatabricks:
        sims.append(client_tests.start(scenario, faults))
        return sims[-1]

    yield make
    for sim in sims:
        sim.stop()


def live(scenario: Scenario) -> list[Message]:
    deleted = {s.space_id for s in scenario.spaces if s.deleted}
    return [m for m in scenario.messages if m.workspace_id == WS and m.space_id not in deleted]


def conversation(scenario: Scenario, at_least: int) -> list[Message]:
    """The messages of the first conversation (of a live space) with at least ``at_least`` messages, oldest first."""
    by_conv: dict[str, list[Message]] = {}
    for m in live(scenario):
        by_conv.setdefault(m.conversation_id, []).append(m)
    msgs = next(v for v in by_conv.values() if len(v) >= at_least)
    return sorted(msgs, key=lambda m: (m.created_at, m.message_id))


def ref(m: Message) -> MessageRef:
    return MessageRef(WS, m.space_id, m.conversation_id, m.message_id, START)


def served(sim: SimulatedDatabricks) -> Counter[str]:
    return Counter(sim.stats(WS).by_kind)


def fetch_all(client: GenieClient, refs: list[MessageRef], **kw: Any) -> tuple[list[FetchOutcome], FetchSummary]:
    got: list[FetchOutcome] = []
    summary = fetch_messages(client, refs, got.extend, **kw)
    return got, summary


def result(o: FetchOutcome) -> tuple[str, Any]:
    """What a fetch of one message wrote: its row (fetch times aside) or its error (type, status, code)."""
    if o.error is not None:
        return "error", (o.error.error_type, o.error.http_status, o.error.error_code)
    assert o.row is not None
    row = o.row.to_pylist()[0]
    return "row", {k: v for k, v in row.items() if k not in ROW_KEYS_IGNORED}


def drop_item(message_id: str) -> Callable[[str, Mapping[str, str], bytes], bytes | None]:
    def hook(kind: str, path: Mapping[str, str], body: bytes) -> bytes | None:
        if kind != "list_messages":
            return None
        page = json.loads(body)
        page["messages"] = [i for i in page["messages"] if i.get("message_id") != message_id]
        return json.dumps(page).encode()
    return hook


def edit_item(message_id: str, **fields: Any) -> Callable[[str, Mapping[str, str], bytes], bytes | None]:
    def hook(kind: str, path: Mapping[str, str], body: bytes) -> bytes | None:
        if kind != "list_messages":
            return None
        page = json.loads(body)
        page["messages"] = [{**i, **fields} if i.get("message_id") == message_id else i for i in page["messages"]]
        return json.dumps(page).encode()
    return hook


# -- fewer requests ------------------------------------------------------------------------------------------
def test_k_pending_messages_of_a_conversation_cost_one_listing_page(scenario: Scenario, sim_factory: Any) -> None:
    msgs = conversation(scenario, at_least=3)
    sim = sim_factory(NO_LIMIT)
    client = client_tests.client_for(sim)
    got, summary = fetch_all(client, [ref(m) for m in msgs])
    kinds = served(sim)
    assert kinds["list_messages"] == 1 and kinds["get_message"] == 0  # was: len(msgs) GETs
    assert kinds["scim_user"] == 1  # the asker, looked up once
    assert [o.ref.message_id for o in got] == [m.message_id for m in msgs] and all(o.error is None for o in got)
    assert [o.message["status"] for o in got] == [m.final_status for m in msgs]  # type: ignore[index]
    assert (summary.fetched, summary.failed, summary.listings, summary.listed) == (len(msgs), 0, 1, len(msgs))
    assert client.stats.requests == 2


def test_the_listing_path_gives_the_per_message_paths_results(scenario: Scenario, sim_factory: Any) -> None:
    refs = [ref(m) for m in scenario.messages if m.workspace_id == WS]
    refs.sort(key=lambda r: (r.space_id, r.conversation_id))
    gone = conversation(scenario, at_least=2)[0].space_id  # a deleted space: 404s either way
    sim = sim_factory(WorkspaceFaults(requests_per_second=None, deleted_space_ids=frozenset({gone})))
    one_by_one, s1 = fetch_all(client_tests.client_for(sim), refs, by_conversation=False, batch_size=40)
    gets = served(sim)
    listed, s2 = fetch_all(client_tests.client_for(sim), refs, batch_size=40)
    both = served(sim)
    assert [result(o) for o in listed] == [result(o) for o in one_by_one]
    assert (s2.fetched, s2.final, s2.pending, s2.failed, s2.failed_by_type) == (
        s1.fetched, s1.final, s1.pending, s1.failed, s1.failed_by_type)
    assert s1.failed and s2.listed >= 20 and s2.listings >= 10
    requests = both["get_message"] + both["list_messages"] - gets["get_message"] - gets["list_messages"]
    assert requests < gets["get_message"]  # GETs of a conversation's pending messages became one listing
    # (a deleted space's conversations cost their failed listing on top: a 404 of a listing is no message's truth)
    assert len({o.ref.message_id for o in listed}) == len(listed) == len(refs)  # none lost, none doubled


def test_paging_stops_once_every_pending_message_was_seen(scenario: Scenario, sim_factory: Any) -> None:
    msgs = conversation(scenario, at_least=4)
    sim = sim_factory(NO_LIMIT)
    client = client_tests.client_for(sim)
    done = fetch_conversation(client, [ref(m) for m in msgs[:2]], page_size=2)  # both on the first page
    assert served(sim)["list_messages"] == 1 and done.pages == 1 and done.listed == 2
    # 3 pending on pages of 1: 2 pages are worth reading (3 GETs would cost 3), the third message is a GET.
    done = fetch_conversation(client, [ref(m) for m in msgs[:3]], page_size=1)
    assert served(sim)["list_messages"] == 3 and served(sim)["get_message"] == 1
    assert (done.pages, done.listed) == (2, 2) and all(o.error is None for o in done.outcomes)
    assert [o.ref.message_id for o in done.outcomes] == [m.message_id for m in msgs[:3]]


# -- fall-backs and errors -------------------------------------------------------------------------------------
def test_a_pending_message_missing_from_the_listing_is_fetched_by_get(scenario: Scenario, sim_factory: Any) -> None:
    msgs = conversation(scenario, at_least=3)
    hidden = msgs[1].message_id
    sim = sim_factory(WorkspaceFaults(requests_per_second=None, rewrite_body=drop_item(hidden)))
    refs = [ref(m) for m in msgs] + [MessageRef(WS, msgs[0].space_id, msgs[0].conversation_id, "ab" * 16, START)]
    got, summary = fetch_all(client_tests.client_for(sim), refs)
    kinds = served(sim)
    assert kinds["list_messages"] == 1 and kinds["get_message"] == 2  # the hidden one and the one that never was
    assert [o.error is None for o in got] == [True] * len(msgs) + [False]
    assert got[1].ref.message_id == hidden and got[1].message["message_id"] == hidden  # type: ignore[index]
    gone = got[-1].error
    assert gone is not None and gone.error_type == E.NOT_FOUND and gone.http_status == 404 and gone.permanent
    assert (summary.fetched, summary.failed, summary.listed) == (len(msgs), 1, len(msgs) - 1)


@pytest.mark.parametrize("case", ["status_number", "created_timestamp_huge", "content_lone_surrogate", "no_status"])
def test_a_malformed_item_fails_its_message_only(scenario: Scenario, sim_factory: Any, case: str) -> None:
    msgs = conversation(scenario, at_least=3)
    victim = msgs[1].message_id
    edits = {"status_number": {"status": 42}, "created_timestamp_huge": {"created_timestamp": 10**30},
             "content_lone_surrogate": {"content": "what \ud800 happened"}, "no_status": {"status": None}}[case]
    sim = sim_factory(WorkspaceFaults(requests_per_second=None, rewrite_body=edit_item(victim, **edits)))
    got, summary = fetch_all(client_tests.client_for(sim), [ref(m) for m in msgs])
    bad = [o for o in got if o.error is not None]
    assert [o.ref.message_id for o in bad] == [victim] and bad[0].error.error_type == E.MALFORMED_RESPONSE  # type: ignore[union-attr]
    assert "happened" not in bad[0].error.message  # type: ignore[union-attr]  # names the field, never the content
    assert served(sim)["get_message"] == 0 and summary.failed == 1 and summary.fetched == len(msgs) - 1


@pytest.mark.parametrize("case", ["status_number", "not_an_object", "invalid_utf8"])
def test_a_hostile_message_is_hostile_in_the_listing_too(scenario: Scenario, sim_factory: Any, case: str) -> None:
    """The simulator's per-message hook (kind ``get_message``) also rewrites that message's listing item."""
    msgs = conversation(scenario, at_least=3)
    victim = msgs[0].message_id
    hook = (client_tests.rewrite("get_message", "message_id", victim, raw=client_tests.invalid_utf8)
            if case == "invalid_utf8" else
            client_tests.rewrite("get_message", "message_id", victim, client_tests.HOSTILE_MESSAGES[case]))
    sim = sim_factory(WorkspaceFaults(requests_per_second=None, rewrite_body=hook))
    got, _ = fetch_all(client_tests.client_for(sim), [ref(m) for m in msgs])
    assert [(o.ref.message_id, o.error.error_type) for o in got if o.error] == [(victim, E.MALFORMED_RESPONSE)]


def test_a_failing_listing_falls_back_to_one_get_per_message(scenario: Scenario, sim_factory: Any) -> None:
    msgs = conversation(scenario, at_least=3)
    sim = sim_factory(WorkspaceFaults(requests_per_second=None, faults=(Fault("500", kinds=frozenset({"list_messages"})),)))
    client = client_tests.client_for(sim, max_attempts=2)
    got, summary = fetch_all(client, [ref(m) for m in msgs])
    assert served(sim)["list_messages"] == 2 and served(sim)["get_message"] == len(msgs)
    assert all(o.error is None for o in got) and (summary.listings, summary.listed) == (0, 0)
    assert client.stats.retries == 1 and client.stats.requests == 2 + len(msgs) + 1  # + the SCIM user


def test_the_simulators_listing_items_are_the_get_answers(scenario: Scenario, sim_factory: Any) -> None:
    msgs = conversation(scenario, at_least=3)
    sim = sim_factory(NO_LIMIT)
    client = client_tests.client_for(sim)
    pages = list(client.conversation_message_pages(msgs[0].space_id, msgs[0].conversation_id, page_size=2))
    assert [len(p) for p in pages] == [2] * (len(msgs) // 2) + ([len(msgs) % 2] if len(msgs) % 2 else [])
    items = [i for p in pages for i in p]
    assert [i["message_id"] for i in items] == [m.message_id for m in msgs]  # oldest first, no repeats
    assert items == [client.get_message(m.space_id, m.conversation_id, m.message_id) for m in msgs]


def test_ingest_lists_conversations_and_matches_the_truth(api_env_factory: Callable[..., ApiEnv]) -> None:
    env = api_env_factory()
    env.ingest_all()
    truth = set(env.scenario.expected_messages_to_fetch())
    got = set(env.rows("SELECT workspace_id, message_id FROM main.genie_analytics.message_details"))
    assert got == truth and not env.rows("SELECT * FROM main.genie_analytics.message_fetch_errors")
    kinds = Counter[str]()
    for ws in WORKSPACES:
        kinds.update(env.sim.stats(ws).by_kind)
    assert kinds["list_messages"] > 0 and kinds["list_messages"] + kinds["get_message"] < 0.8 * len(truth)


# -- no 429 at start-up ----------------------------------------------------------------------------------------
def test_a_fresh_budget_sends_no_burst() -> None:
    """In any first ``t`` seconds a new budget admits at most ``1 + rate * t`` requests (was ``rate + rate * t``)."""
    now = {"t": 0.0}

    def sleep(s: float) -> None:
        now["t"] += s

    budget = RequestBudget(20, clock=lambda: now["t"], sleep=sleep)
    now["t"] = 10.0  # the run sets itself up (OAuth, SQL) before its first request: no tokens accrue meanwhile
    sent = []
    for _ in range(60):
        budget.acquire()
        sent.append(now["t"])
    for t in (0.0, 0.5, 1.0, 2.0):
        assert sum(s <= 10.0 + t + 1e-9 for s in sent) <= 1 + 20 * t
    assert sent[-1] == pytest.approx(10.0 + 59 / 20)  # and it still goes at the full rate


def test_a_fresh_client_after_a_busy_one_gets_no_429(scenario: Scenario, sim_factory: Any) -> None:
    """The server's bucket was just spent (a run before ours); a new client at the server's rate must not burst."""
    sim = sim_factory(WorkspaceFaults(requests_per_second=20, burst=20))
    drainer = client_tests.client_for(sim, rate_per_s=10_000, max_attempts=1)
    drainer.budget = RequestBudget(10_000, clock=wall.monotonic, sleep=wall.sleep)
    for _ in range(100):  # until the server says 429: its bucket is empty
        try:
            drainer.request("GET", "/api/2.0/genie/spaces")
        except E.GenieApiError as exc:
            assert exc.error_type == E.RATE_LIMITED
            break
    else:
        pytest.fail("the server never throttled")
    tokens = client_tests.OAuthTokenSource(sim.urls[WS], sim.client_id, sim.client_secret)
    client = GenieClient(WS, sim.urls[WS], tokens, client_tests.ClientSettings(rate_per_s=20, concurrency=8))
    client.tokens.headers()  # OAuth is no /api/ call
    wall.sleep(0.25)  # a little slack for thread scheduling: the server holds 5 tokens when we start
    before = sim.stats(WS).throttled
    refs = [ref(m) for m in live(scenario)[:30]]
    got, _ = fetch_all(client, refs, by_conversation=False)
    assert all(o.error is None for o in got)
    assert sim.stats(WS).throttled - before == 0 and client.stats.throttled == 0


def test_a_workspace_without_the_listing_endpoint_is_asked_once(scenario: Scenario, sim_factory: Any) -> None:
    sim = sim_factory(NO_LIMIT)
    client = client_tests.client_for(sim)
    real = client.request

    def request(method: str, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if path.endswith("/messages"):  # what a workspace without the endpoint answers
            raise E.GenieApiError(E.NOT_FOUND, "No API found", 404, "ENDPOINT_NOT_FOUND")
        return real(method, path, params)

    client.request = request  # type: ignore[method-assign]
    refs = sorted((ref(m) for m in live(scenario)), key=lambda r: (r.space_id, r.conversation_id))
    got, summary = fetch_all(client, refs)
    assert all(o.error is None for o in got) and summary.listings == 0 and not client.listing_available
    assert served(sim)["get_message"] == len(refs)
