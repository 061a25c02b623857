"""Fixtures for the simulated Databricks server: a small scenario, a movable clock, started servers and
real ``databricks-sdk`` clients pointed at them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config

from genie_obs_dagster.sandbox.model import Scenario
from genie_obs_dagster.sandbox.scenario import ScenarioParams, generate
from genie_obs_dagster.sandbox.server import Principal, SimConfig, SimulatedDatabricks, WorkspaceFaults
from genie_obs_dagster.sandbox.server.warehouse import EngineFactory

SMALL = ScenarioParams(days=2, questions_per_day=5)
NO_LIMITS = WorkspaceFaults(requests_per_second=None, questions_per_window=None)
ANSWER_DELAY_S = 30.0
AUDIT_DELAY_S = 45.0


class MutableClock:
    """The server's business clock, moved by the test instead of by sleeping."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def scenario() -> Scenario:
    return generate(SMALL)


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))


@pytest.fixture
def asker(scenario: Scenario) -> Principal:
    """A person with conversations in the first workspace, able to log in with client credentials."""
    wid = scenario.workspaces[0].workspace_id
    user_id = next(c.user_id for c in scenario.conversations if c.workspace_id == wid)
    return Principal.for_user(scenario.user(user_id), "user-secret")


@pytest.fixture
def make_sim(scenario: Scenario, clock: MutableClock, asker: Principal) -> Iterator[Callable[..., SimulatedDatabricks]]:
    """Start a simulator with test defaults (no limits, answers completed after 30 s of *clock* time)."""
    started: list[SimulatedDatabricks] = []

    def make(engine_factory: EngineFactory | None = None, **overrides: Any) -> SimulatedDatabricks:
        base = SimConfig(clock=clock, answer_delay_s=ANSWER_DELAY_S, audit_delay_s=AUDIT_DELAY_S, faults=NO_LIMITS,
                         answer_status=lambda content: "COMPLETED", principals=(asker,))
        sim = SimulatedDatabricks(scenario, dataclasses.replace(base, **overrides), sql_engine_factory=engine_factory)
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(make_sim: Callable[..., SimulatedDatabricks]) -> SimulatedDatabricks:
    return make_sim()


@pytest.fixture
def wid(scenario: Scenario) -> str:
    return scenario.workspaces[0].workspace_id


def sdk_client(url: str, client_id: str, client_secret: str, **config: Any) -> WorkspaceClient:
    """A WorkspaceClient exactly as production code builds one (OAuth M2M)."""
    return WorkspaceClient(config=Config(host=url, client_id=client_id, client_secret=client_secret,
                                         auth_type="oauth-m2m", **config))


@pytest.fixture
def w(sim: SimulatedDatabricks, wid: str) -> WorkspaceClient:
    return sdk_client(sim.urls[wid], sim.client_id, sim.client_secret)


@pytest.fixture
def user_client(sim: SimulatedDatabricks, wid: str, asker: Principal) -> WorkspaceClient:
    return sdk_client(sim.urls[wid], asker.client_id, asker.client_secret)


def bearer(url: str, client_id: str, client_secret: str) -> dict[str, str]:
    """Authorization header from a raw client-credentials token request."""
    resp = requests.post(f"{url}/oidc/v1/token", auth=(client_id, client_secret),
                         data={"grant_type": "client_credentials", "scope": "all-apis"}, timeout=5)
    resp.raise_for_status()
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}
