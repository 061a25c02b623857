"""The Genie client against the simulated workspace: Retry-After, token expiry, errors classified."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from genie_obs_dagster.genie import errors as E
from genie_obs_dagster.genie.auth import CredentialError, OAuthTokenSource, resolve_secret
from genie_obs_dagster.genie.budget import RequestBudget
from genie_obs_dagster.genie.client import ClientSettings, GenieClient
from genie_obs_dagster.sandbox.model import Scenario
from genie_obs_dagster.sandbox.server import Fault, SimConfig, SimulatedDatabricks, WorkspaceFaults
from genie_obs_dagster.settings import SecretRef

from .conftest import WORKSPACES, make_scenario

WS = WORKSPACES[0]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return make_scenario(days=2)


def start(scenario: Scenario, faults: WorkspaceFaults, **config: object) -> SimulatedDatabricks:
    sim = SimulatedDatabricks(scenario, SimConfig(workspace_faults={WS: faults}, **config), workspace_ids=[WS])  # type: ignore[arg-type]
    sim.start()
    return sim


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, s: float) -> None:
        self.calls.append(s)
        import time

        time.sleep(min(s, 0.01))  # record the wait the client chose, without spending it


def client_for(sim: SimulatedDatabricks, sleep: Sleeps | None = None, **settings: object) -> GenieClient:
    tokens = OAuthTokenSource(sim.urls[WS], sim.client_id, sim.client_secret)
    kw = {"rate_per_s": 1000.0, "max_attempts": 4, "timeout_s": 2.0, **settings}
    return GenieClient(WS, sim.urls[WS], tokens, ClientSettings(**kw), **({"sleep": sleep} if sleep else {}))  # type: ignore[arg-type]


@pytest.fixture
def some_message(scenario: Scenario) -> Iterator[tuple[str, str, str]]:
    m = next(m for m in scenario.messages if m.workspace_id == WS and not next(
        s for s in scenario.spaces if s.space_id == m.space_id).deleted)
    yield m.space_id, m.conversation_id, m.message_id


def test_429_is_retried_after_the_servers_retry_after(scenario: Scenario, some_message: tuple[str, str, str]) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None, faults=(
        Fault("429", kinds=frozenset({"get_message"}), limit=2, retry_after_s=1),)))
    try:
        sleeps = Sleeps()
        client = client_for(sim, sleeps)
        body = client.get_message(*some_message)
        assert body["message_id"] == some_message[2]
        assert client.stats.throttled == 2 and client.stats.requests == 3
        assert sum(sleeps.calls) >= 2  # waited Retry-After (1 s) twice before asking again
    finally:
        sim.stop()


def test_429_after_every_attempt_is_classified(scenario: Scenario, some_message: tuple[str, str, str]) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None, faults=(
        Fault("429", kinds=frozenset({"get_message"}), retry_after_s=1),)))
    try:
        with pytest.raises(E.GenieApiError) as exc:
            client_for(sim, Sleeps(), max_attempts=3).get_message(*some_message)
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
        client = client_for(sim, Sleeps(), max_attempts=2)
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
            client_for(sim, Sleeps(), max_attempts=1, timeout_s=0.3).get_message(*some_message)
        assert exc.value.error_type == E.TIMEOUT
    finally:
        sim.stop()


def test_short_lived_tokens_are_renewed_mid_run(scenario: Scenario, some_message: tuple[str, str, str]) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None), token_ttl_s=1)
    try:
        client = client_for(sim)
        for _ in range(3):
            assert client.get_message(*some_message)["message_id"] == some_message[2]
        assert sim.stats(WS).tokens_issued >= 2  # the SDK renewed the token before it expired
        assert sim.stats(WS).by_status.get(401, 0) == 0
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


def test_wrong_credentials_fail_clearly_without_the_secret(scenario: Scenario, some_message: tuple[str, str, str]) -> None:
    sim = start(scenario, WorkspaceFaults(requests_per_second=None))
    try:
        tokens = OAuthTokenSource(sim.urls[WS], sim.client_id, "wrong-secret-value")
        client = GenieClient(WS, sim.urls[WS], tokens, ClientSettings(max_attempts=1))
        with pytest.raises(CredentialError) as exc:
            client.get_message(*some_message)
        assert exc.value.error_type == E.NO_TOKEN and "wrong-secret-value" not in str(exc.value)
        assert "wrong-secret-value" not in repr(tokens)
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
