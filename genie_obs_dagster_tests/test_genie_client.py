"""The Genie client against the simulated workspace: Retry-After, token expiry and token endpoint failures,
hostile answers, errors classified. Time is a fake clock that the client's sleep advances: no test waits."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from databricks.sdk import oauth as sdk_oauth
from databricks.sdk.config import Config

from genie_obs_dagster.genie import errors as E
from genie_obs_dagster.genie.auth import CredentialError, OAuthTokenSource, resolve_secret
from genie_obs_dagster.genie.budget import RequestBudget
from genie_obs_dagster.genie.client import ClientSettings, GenieClient
from genie_obs_dagster.genie.fetch import fetch_one
from genie_obs_dagster.genie.rows import FetchOutcome, MessageRef, to_tables
from genie_obs_dagster.resources import GenieResource
from genie_obs_dagster.sandbox.model import Scenario
from genie_obs_dagster.sandbox.server import Fault, SimConfig, SimulatedDatabricks, WorkspaceFaults
from genie_obs_dagster.settings import SecretRef

from .conftest import START, WORKSPACES, make_scenario, make_settings

WS = WORKSPACES[0]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return make_scenario(days=2)


def start(scenario: Scenario, faults: WorkspaceFaults, **config: object) -> SimulatedDatabricks:
    sim = SimulatedDatabricks(scenario, SimConfig(workspace_faults={WS: faults}, **config), workspace_ids=[WS])  # type: ignore[arg-type]
    sim.start()
    return sim


class FakeTime:
    """A monotonic clock that only ``sleep`` moves: waits are recorded and cost no real time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.calls: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        with self._lock:
            self.calls.append(s)
            self.now += max(0.0, s)


def client_for(sim: SimulatedDatabricks, time: FakeTime | None = None, **settings: Any) -> GenieClient:
    kw = {"rate_per_s": 1000.0, "max_attempts": 4, "timeout_s": 2.0, **settings}
    tokens = OAuthTokenSource(sim.urls[WS], sim.client_id, sim.client_secret, http_timeout_s=kw["timeout_s"])
    time = time or FakeTime()
    return GenieClient(WS, sim.urls[WS], tokens, ClientSettings(**kw), sleep=time.sleep, clock=time.clock)


def api_sends(client: GenieClient, time: FakeTime) -> list[float]:
    """Record the fake time at which each Genie API request leaves the client."""
    sent: list[float] = []
    real = client._session.request

    def request(method: str, url: str, *args: Any, **kw: Any) -> Any:
        if "/api/" in url:
            sent.append(time.now)
        return real(method, url, *args, **kw)

    client._session.request = request  # type: ignore[method-assign]
    return sent


@pytest.fixture
def some_message(scenario: Scenario) -> Iterator[tuple[str, str, str]]:
    m = next(m for m in scenario.messages if m.workspace_id == WS and not next(
        s for s in scenario.spaces if s.space_id == m.space_id).deleted)
    yield m.space_id, m.conversation_id, m.message_id


def test_the_next_request_waits_the_whole_retry_after(scenario: Scenario, some_message: tuple[str, str, str]) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None, faults=(
        Fault("429", kinds=frozenset({"get_message"}), limit=2, retry_after_s=7),)))
    try:
        time = FakeTime()
        client = client_for(sim, time)
        sent = api_sends(client, time)
        body = client.get_message(*some_message)
        assert body["message_id"] == some_message[2]
        assert client.stats.throttled == 2 and client.stats.requests == 3 and len(sent) == 3
        gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
        assert all(7.0 <= g <= 7.5 for g in gaps), gaps  # the whole Retry-After, and not much more
    finally:
        sim.stop()


def test_429_after_every_attempt_is_classified(scenario: Scenario, some_message: tuple[str, str, str]) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None, faults=(
        Fault("429", kinds=frozenset({"get_message"}), retry_after_s=1),)))
    try:
        with pytest.raises(E.GenieApiError) as exc:
            client_for(sim, max_attempts=3).get_message(*some_message)
        assert exc.value.error_type == E.RATE_LIMITED and exc.value.http_status == 429 and exc.value.attempts == 3
        assert exc.value.error_code == "REQUEST_LIMIT_EXCEEDED" and not exc.value.permanent
    finally:
        sim.stop()


@pytest.mark.parametrize(("effect", "error_type"), [("500", E.SERVER_ERROR), ("503", E.SERVER_ERROR),
                                                    ("truncate", E.MALFORMED_RESPONSE), ("malformed", E.MALFORMED_RESPONSE),
                                                    ("drop", E.SERVER_ERROR), ("short_read", E.MALFORMED_RESPONSE)])
def test_faults_are_retried_then_classified(scenario: Scenario, some_message: tuple[str, str, str], effect: str,
                                            error_type: str) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None, faults=(Fault(effect, kinds=frozenset({"get_message"})),)))
    try:
        client = client_for(sim, max_attempts=2)
        with pytest.raises(E.GenieApiError) as exc:
            client.get_message(*some_message)
        assert exc.value.error_type == error_type and exc.value.attempts == 2
        sim.set_faults(WS, WorkspaceFaults(requests_per_second=None, faults=(
            Fault(effect, kinds=frozenset({"get_message"}), limit=1),)))
        assert client.get_message(*some_message)["message_id"] == some_message[2]  # one fault, then the retry works
    finally:
        sim.stop()


def test_timeouts_are_classified(scenario: Scenario, some_message: tuple[str, str, str]) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None, faults=(
        Fault("timeout", kinds=frozenset({"get_message"}), delay_s=1.5),)))
    try:
        with pytest.raises(E.GenieApiError) as exc:
            client_for(sim, max_attempts=1, timeout_s=0.3).get_message(*some_message)
        assert exc.value.error_type == E.TIMEOUT
    finally:
        sim.stop()


def test_tokens_are_renewed_before_they_expire(scenario: Scenario, some_message: tuple[str, str, str]) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None), token_ttl_s=3600)
    try:
        time = FakeTime()
        tokens = OAuthTokenSource(sim.urls[WS], sim.client_id, sim.client_secret, clock=time.clock)
        client = GenieClient(WS, sim.urls[WS], tokens, ClientSettings(rate_per_s=1000.0))
        client.get_message(*some_message)
        time.now += 3600 - 41  # still valid for 41 s: kept
        client.get_message(*some_message)
        assert sim.stats(WS).tokens_issued == 1
        time.now += 2  # within 40 s of expiry: renewed before the server would refuse it
        client.get_message(*some_message)
        assert sim.stats(WS).tokens_issued == 2 and sim.stats(WS).by_status.get(401, 0) == 0
        assert sim.stats(WS).by_kind["oidc_discovery"] == 1  # the token endpoint is discovered once
    finally:
        sim.stop()


def test_a_revoked_token_is_replaced_once(scenario: Scenario, some_message: tuple[str, str, str]) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None))
    try:
        client = client_for(sim)
        client.get_message(*some_message)
        sim.app(WS).tokens.revoke_all()  # the server forgets every token: the next call gets a 401
        assert client.get_message(*some_message)["message_id"] == some_message[2]
        assert client.stats.token_refreshes == 1 and sim.stats(WS).tokens_issued == 2
    finally:
        sim.stop()


def test_wrong_credentials_fail_at_once_without_the_secret(scenario: Scenario, some_message: tuple[str, str, str]) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None))
    try:
        tokens = OAuthTokenSource(sim.urls[WS], sim.client_id, "wrong-secret-value")
        client = GenieClient(WS, sim.urls[WS], tokens, ClientSettings(max_attempts=4), sleep=FakeTime().sleep)
        with pytest.raises(CredentialError) as exc:
            client.get_message(*some_message)
        e = exc.value
        assert e.error_type == E.NO_TOKEN and not e.transient and not e.permanent and e.attempts == 1
        assert e.http_status == 401 and e.error_code == "invalid_client"
        assert sim.stats(WS).by_kind["token"] == 1  # a rejected credential is not asked again within the call
        assert "wrong-secret-value" not in str(e) and "wrong-secret-value" not in repr(e)
        assert "wrong-secret-value" not in repr(tokens) and "wrong-secret-value" not in str(tokens)
    finally:
        sim.stop()


TOKEN_FAULTS = [
    ("token", Fault("503", kinds=frozenset({"token"}), limit=2)),
    ("token", Fault("500", kinds=frozenset({"token"}), limit=2)),
    ("token", Fault("429", kinds=frozenset({"token"}), limit=2)),
    ("token", Fault("timeout", kinds=frozenset({"token"}), limit=2, delay_s=3.0)),
    ("token", Fault("drop", kinds=frozenset({"token"}), limit=2)),
    ("token", Fault("malformed", kinds=frozenset({"token"}), limit=2)),
    ("oidc_discovery", Fault("503", kinds=frozenset({"oidc_discovery"}), limit=2)),
    ("oidc_discovery", Fault("timeout", kinds=frozenset({"oidc_discovery"}), limit=2, delay_s=3.0)),
]


@pytest.mark.parametrize(("kind", "fault"), TOKEN_FAULTS, ids=[f"{k}-{f.effect}" for k, f in TOKEN_FAULTS])
def test_token_endpoint_failures_are_retried_within_the_call(scenario: Scenario, some_message: tuple[str, str, str],
                                                            kind: str, fault: Fault) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None, faults=(fault,)))
    try:
        time = FakeTime()
        client = client_for(sim, time, max_attempts=4, timeout_s=0.5)
        assert client.get_message(*some_message)["message_id"] == some_message[2]
        assert sim.stats(WS).by_kind[kind] == 3  # two failures, then the answer
        assert client.stats.token_failures == 2 and client.stats.retries == 2 and client.stats.requests == 3
        assert time.calls  # backed off (or paused for Retry-After) between attempts
        if fault.effect == "429":
            assert client.stats.throttled == 2
    finally:
        sim.stop()


def test_a_token_endpoint_down_for_every_attempt_is_no_token(scenario: Scenario, some_message: tuple[str, str, str]) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None, faults=(Fault("503", kinds=frozenset({"token"})),)))
    try:
        client = client_for(sim, max_attempts=3)
        with pytest.raises(CredentialError) as exc:
            client.get_message(*some_message)
        e = exc.value
        assert e.error_type == E.NO_TOKEN and e.http_status == 503 and e.attempts == 3 and not e.permanent
        assert sim.stats(WS).by_kind["token"] == 3 and sim.stats(WS).by_kind.get("get_message", 0) == 0
    finally:
        sim.stop()


def test_threads_waiting_for_a_token_share_one_failed_request(scenario: Scenario, some_message: tuple[str, str, str]) -> None:
    """Eight threads need a token while the endpoint hangs: one request per attempt, not one per thread."""
    sim = start(scenario, WorkspaceFaults(requests_per_second=None, faults=(
        Fault("timeout", kinds=frozenset({"token"}), limit=1, delay_s=3.0),)))
    try:
        client = client_for(sim, max_attempts=3, timeout_s=0.5)
        barrier = threading.Barrier(8)

        def one() -> str:
            barrier.wait()
            return client.get_message(*some_message)["message_id"]

        threads_done: list[str] = []
        workers = [threading.Thread(target=lambda: threads_done.append(one())) for _ in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=30)
        assert threads_done == [some_message[2]] * 8
        assert sim.stats(WS).by_kind["token"] == 2  # the hung request, then one that every thread used
    finally:
        sim.stop()


def test_our_token_requests_match_the_sdks(scenario: Scenario) -> None:
    """We send what databricks-sdk 0.60 sends (genie-api.md §0.1). Fails if an SDK upgrade changes the sequence
    (0.162 adds GET /.well-known/databricks-config first): then compare and follow deliberately."""
    sim = start(scenario, WorkspaceFaults(requests_per_second=None))
    try:
        app = sim.app(WS)
        seen: list[tuple[Any, ...]] = []
        real = app.handle

        def handle(req: Any) -> Any:
            auth = (req.header("Authorization") or "").split(" ")[0]
            form = sorted(req.body.decode().split("&")) if req.body else []
            seen.append((req.method, req.path, auth, (req.header("Content-Type") or "").split(";")[0], form))
            return real(req)

        app.handle = handle  # type: ignore[method-assign]
        sdk_header = Config(host=sim.urls[WS], client_id=sim.client_id, client_secret=sim.client_secret,
                            auth_type="oauth-m2m").authenticate()
        sdk_seen, seen[:] = list(seen), []
        ours = OAuthTokenSource(sim.urls[WS], sim.client_id, sim.client_secret).headers()
        assert seen == sdk_seen == [
            ("GET", "/oidc/.well-known/oauth-authorization-server", "", "", []),
            ("POST", "/oidc/v1/token", "Basic", "application/x-www-form-urlencoded",
             ["grant_type=client_credentials", "scope=all-apis"]),
        ]
        assert ours["Authorization"].split(" ")[0] == sdk_header["Authorization"].split(" ")[0] == "Bearer"
    finally:
        sim.stop()


def test_sdk_token_errors_lose_the_status(scenario: Scenario) -> None:
    """Why auth.py does not wrap the SDK (databricks-sdk 0.60): its token POST has no timeout, and a token
    endpoint's 503 and a rejected secret are both a bare ValueError told apart only by text. If an upgrade
    fixes this, consider going back to the SDK (see auth.py)."""
    assert "timeout" not in inspect.getsource(sdk_oauth.retrieve_token)
    sim = start(scenario, WorkspaceFaults(requests_per_second=None, faults=(Fault("503", kinds=frozenset({"token"}), limit=1),)))
    try:
        config = Config(host=sim.urls[WS], client_id=sim.client_id, client_secret=sim.client_secret, auth_type="oauth-m2m")
        with pytest.raises(ValueError) as unavailable:
            config.authenticate()
        wrong = Config(host=sim.urls[WS], client_id=sim.client_id, client_secret="not-it", auth_type="oauth-m2m")
        with pytest.raises(ValueError) as rejected:
            wrong.authenticate()
        assert type(unavailable.value) is type(rejected.value) is ValueError
        assert str(unavailable.value) == "unknown: unknown" and "503" not in str(unavailable.value)
        assert str(rejected.value) == "invalid_client: Client authentication failed"
    finally:
        sim.stop()


def test_an_unset_credential_variable_is_no_token_of_each_call(scenario: Scenario, some_message: tuple[str, str, str],
                                                              tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None))
    try:
        monkeypatch.setenv("GENIE_OBS_CLIENT_ID", sim.client_id)
        monkeypatch.delenv("GENIE_OBS_CLIENT_SECRET", raising=False)
        settings = make_settings(tmp_path / "wh.duckdb", workspaces=[{"id": WS, "url": sim.urls[WS]}])
        resource = GenieResource.from_settings(settings)
        client = resource.client(WS)  # creating the client needs no secret
        for _ in range(2):
            with pytest.raises(CredentialError) as exc:
                client.get_message(*some_message)
            assert exc.value.error_type == E.NO_TOKEN and not exc.value.permanent and exc.value.attempts == 1
            assert "GENIE_OBS_CLIENT_SECRET is not set" in str(exc.value)
        assert sim.stats(WS).requests == 0
        monkeypatch.setenv("GENIE_OBS_CLIENT_SECRET", sim.client_secret)
        assert client.get_message(*some_message)["message_id"] == some_message[2]  # resolved when first needed
        assert sim.client_secret not in repr(client.tokens) + str(client.tokens) + repr(resource)
    finally:
        sim.stop()


def test_deleted_and_revoked_spaces_are_permanent(scenario: Scenario) -> None:
    spaces = [s for s in scenario.spaces if s.workspace_id == WS]
    m_gone = next(m for m in scenario.messages if m.space_id == spaces[0].space_id)
    m_revoked = next(m for m in scenario.messages if m.space_id == spaces[1].space_id)
    sim = start(scenario, WorkspaceFaults(requests_per_second=None, deleted_space_ids=frozenset({spaces[0].space_id}),
                                          revoked_space_ids=frozenset({spaces[1].space_id})))
    try:
        client = client_for(sim)
        for m, expected in ((m_gone, E.NOT_FOUND), (m_revoked, E.PERMISSION_DENIED)):
            with pytest.raises(E.GenieApiError) as exc:
                client.get_message(m.space_id, m.conversation_id, m.message_id)
            assert exc.value.error_type == expected and exc.value.permanent and exc.value.attempts == 1
    finally:
        sim.stop()


def test_pagination_lists_everything(scenario: Scenario) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None))
    try:
        client = client_for(sim)
        spaces = list(client.list_spaces(page_size=1))
        assert sorted(s["space_id"] for s in spaces) == sorted(s.space_id for s in scenario.spaces if s.workspace_id == WS)
        space = spaces[0]["space_id"]
        convs = list(client.list_conversations(space, include_all=True, page_size=2))
        assert sorted(c["conversation_id"] for c in convs) == sorted(
            c.conversation_id for c in scenario.conversations if c.space_id == space)
        conv = convs[0]["conversation_id"]
        msgs = list(client.list_conversation_messages(space, conv, page_size=1))
        assert sorted(m["message_id"] for m in msgs) == sorted(
            m.message_id for m in scenario.messages if m.conversation_id == conv)
    finally:
        sim.stop()


def test_ids_reaching_url_paths_are_validated(scenario: Scenario) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None))
    try:
        with pytest.raises(E.GenieApiError, match="32-character lowercase hex"):
            client_for(sim).get_message("../../scim", "0" * 32, "0" * 32)
        assert sim.stats(WS).requests == 0
    finally:
        sim.stop()


def test_budget_holds_callers_back_and_pauses_on_retry_after() -> None:
    now = {"t": 0.0}
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now["t"] += s

    budget = RequestBudget(10, burst=1, clock=lambda: now["t"], sleep=sleep)
    for _ in range(5):
        budget.acquire()
    assert now["t"] == pytest.approx(0.4)  # 10/s: the 2nd..5th request wait 0.1 s each
    budget.pause(2.0)
    budget.acquire()
    assert now["t"] >= 2.4  # nobody sends before Retry-After has passed


def test_secrets_resolve_from_env_by_reference() -> None:
    assert resolve_secret(SecretRef(env="X_SECRET"), environ={"X_SECRET": "v"}) == "v"
    with pytest.raises(CredentialError, match="X_SECRET is not set"):
        resolve_secret(SecretRef(env="X_SECRET"), environ={})
    assert resolve_secret(SecretRef(secret_scope="genie-obs", key="k"), secret_reader=lambda s, k: f"{s}/{k}") == "genie-obs/k"


# -- hostile answers: one message's body of the wrong shape is that message's MALFORMED_RESPONSE -------------
def _edit(**fields: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: {**body, **fields}


HOSTILE_MESSAGES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "created_timestamp_text": _edit(created_timestamp="yesterday"),
    "created_timestamp_huge": _edit(created_timestamp=10**30),
    "attachments_object": _edit(attachments={"a": {"query": {}}}),
    "attachments_empty_object": _edit(attachments={}),
    "attachments_strings": _edit(attachments=["x", "y"]),
    "query_text": _edit(attachments=[{"attachment_id": "a", "query": "x"}]),
    "row_count_text": _edit(attachments=[{"attachment_id": "a", "query": {"query_result_metadata": {"row_count": "many"}}}]),
    "questions_objects": _edit(attachments=[{"suggested_questions": {"questions": [{"q": 1}]}}]),
    "status_number": _edit(status=42),
    "user_id_text": _edit(user_id="abc"),
    "feedback_list": _edit(feedback=[]),
    "error_text": _edit(error="boom"),
    "content_lone_surrogate": _edit(content="what \ud800 happened"),
    "sql_lone_surrogate": _edit(attachments=[{"attachment_id": "a", "query": {"query": "SELECT '\udfff'"}}]),
    "not_an_object": lambda body: [body],
}
HOSTILE_USERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "emails_strings": _edit(emails=["a@example.com"]),
    "emails_object": _edit(emails={"value": "a@example.com"}),
    "email_value_number": _edit(emails=[{"value": 5, "primary": True}]),
    "display_name_lone_surrogate": _edit(displayName="Ann \udc80"),
}


def rewrite(kind: str, key: str, value: str, edit: Callable[[dict[str, Any]], Any] | None = None,
            raw: Callable[[bytes], bytes] | None = None) -> Callable[[str, Mapping[str, str], bytes], bytes | None]:
    """A ``WorkspaceFaults.rewrite_body`` hook: the answer of one object (route kind + path id) replaced,
    by editing its JSON (``edit``) or its bytes (``raw``)."""
    def hook(route_kind: str, path: Mapping[str, str], body: bytes) -> bytes | None:
        if route_kind != kind or path.get(key) != value:
            return None
        return raw(body) if raw is not None else json.dumps(edit(json.loads(body))).encode()  # type: ignore[misc]
    return hook


def invalid_utf8(body: bytes) -> bytes:
    """The real answer with a byte that is not UTF-8 inside its question text."""
    assert b'"content":"' in body
    return body.replace(b'"content":"', b'"content":"\xff', 1)


def _ref(m: tuple[str, str, str]) -> MessageRef:
    return MessageRef(WS, m[0], m[1], m[2], START)


@pytest.mark.parametrize("case", sorted(HOSTILE_MESSAGES) + [f"user:{k}" for k in sorted(HOSTILE_USERS)] + ["invalid_utf8"])
def test_a_hostile_answer_is_that_messages_malformed_response(scenario: Scenario, some_message: tuple[str, str, str],
                                                              case: str) -> None:
    user_id = next(m.user_id for m in scenario.messages if m.message_id == some_message[2])
    if case.startswith("user:"):
        hook = rewrite("scim_user", "user_id", str(user_id), HOSTILE_USERS[case[5:]])
    elif case == "invalid_utf8":
        hook = rewrite("get_message", "message_id", some_message[2], raw=invalid_utf8)
    else:
        hook = rewrite("get_message", "message_id", some_message[2], HOSTILE_MESSAGES[case])
    sim = start(scenario, WorkspaceFaults(requests_per_second=None, rewrite_body=hook))
    try:
        client = client_for(sim, max_attempts=2)
        outcome = fetch_one(client, _ref(some_message))
        assert outcome.error is not None and outcome.error.error_type == E.MALFORMED_RESPONSE, outcome
        assert not outcome.error.permanent  # later runs ask again, within the sensor's max attempts
        text = str(outcome.error)
        assert len(text) < 300 and "yesterday" not in text and "a@example.com" not in text and "\ufffd" not in text
        text.encode("utf-8")  # storable
        good = next(m for m in scenario.messages if m.workspace_id == WS and m.message_id != some_message[2]
                    and m.user_id != user_id and m.space_id == some_message[0])
        ok = fetch_one(client, MessageRef(WS, good.space_id, good.conversation_id, good.message_id, START))
        messages, errors, _ = to_tables([outcome, ok])  # the batch stages: one error, one message
        assert messages.column("message_id").to_pylist() == [good.message_id]
        assert errors.column("error_type").to_pylist() == [E.MALFORMED_RESPONSE]
    finally:
        sim.stop()


def test_to_tables_never_fails_on_an_unshaped_outcome() -> None:
    """Outcomes built elsewhere (the discovery cross-check) are shaped one by one when staged."""
    ref = MessageRef(WS, "a" * 32, "b" * 32, "c" * 32, START)
    bad = FetchOutcome(ref, dt.datetime.now(dt.timezone.utc), 1, message={"message_id": "c" * 32, "status": "COMPLETED", "content": "\ud800"})
    messages, errors, resolved = to_tables([bad])
    assert messages.num_rows == 0 and resolved.num_rows == 0
    assert errors.column("error_type").to_pylist() == [E.MALFORMED_RESPONSE]


def test_an_error_text_utf8_cannot_encode_is_still_recorded() -> None:
    ref = MessageRef(WS, "a" * 32, "b" * 32, "c" * 32, START)
    failed = FetchOutcome(ref, dt.datetime.now(dt.timezone.utc), 1,
                          error=E.GenieApiError(E.NOT_FOUND, "Message \ud800 does not exist.", 404, "RESOURCE_\udc00"))
    _, errors, _ = to_tables([failed])
    assert errors.column("error_message").to_pylist() == ["Message ? does not exist."]
