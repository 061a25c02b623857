"""The ``genie_ingest`` job against the simulated workspaces when answers are hostile or credentials fail:
one bad message never blocks its workspace, token endpoint trouble is retried within the call, unset or
wrong credentials are retryable per-message errors, and the client secret appears in no log at all."""

from __future__ import annotations

import base64
import logging
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import pytest

from genie_obs_dagster.code_location import build_definitions
from genie_obs_dagster.demo import range_tags
from genie_obs_dagster.sandbox.server import Fault, SimConfig, WorkspaceFaults
from genie_obs_dagster.settings import parse_settings

from . import test_genie_client as client_tests
from .conftest import WORKSPACES, ApiEnv, make_scenario

A, B = WORKSPACES
NO_LIMIT = WorkspaceFaults(requests_per_second=None)
ERRORS = ("SELECT workspace_id, message_id, error_type, permanent, resolved, error_message "
          "FROM main.genie_analytics.message_fetch_errors ORDER BY workspace_id, message_id")


def detail_keys(env: ApiEnv) -> set[tuple[str, str]]:
    return set(env.rows("SELECT workspace_id, message_id FROM main.genie_analytics.message_details"))


def errors(env: ApiEnv) -> dict[tuple[str, str], dict[str, Any]]:
    cols = ["workspace_id", "message_id", "error_type", "permanent", "resolved", "error_message"]
    return {(r[0], r[1]): dict(zip(cols, r, strict=True)) for r in env.rows(ERRORS)}


def truth(env: ApiEnv, ws: str | None = None) -> set[tuple[str, str]]:
    return {k for k in env.scenario.expected_messages_to_fetch() if ws in (None, k[0])}


def figure(result: dg.ExecuteInProcessResult, name: str) -> int:
    """A counter of the fetch step (``retries`` or ``api_retries``), summed over message_details' materializations."""
    values = [m[key].value for e in result.get_asset_materialization_events()
              if e.asset_key.to_user_string() == "message_details"
              for m in [e.event_specific_data.materialization.metadata] for key in (name, f"api_{name}") if key in m]
    assert values, f"no {name} in the metadata"
    return int(sum(values))


def run(env: ApiEnv, ws: str) -> dg.ExecuteInProcessResult:
    """One ingest run over a workspace's whole range that may fail (when nothing could be fetched)."""
    job = env.defs.resolve_job_def("genie_ingest")
    return job.execute_in_process(instance=env.instance, raise_on_error=False,
                                  tags=range_tags(ws, env.scenario.start_date, env.last_day))


# -- one hostile answer -------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["content_lone_surrogate", "attachments_strings", "created_timestamp_text",
                                  "invalid_utf8", "user:emails_strings"])
def test_one_hostile_answer_does_not_block_its_workspace(api_env_factory: Callable[..., ApiEnv], case: str) -> None:
    scenario = make_scenario()
    by_id = {m.message_id: m for m in scenario.messages}
    keys = sorted(k for k in scenario.expected_messages_to_fetch() if k[0] == A)
    victim = by_id[keys[len(keys) // 2][1]]
    if case.startswith("user:"):
        hook = client_tests.rewrite("scim_user", "user_id", str(victim.user_id), client_tests.HOSTILE_USERS[case[5:]])
        victims = {k for k in keys if by_id[k[1]].user_id == victim.user_id}
    elif case == "invalid_utf8":
        hook = client_tests.rewrite("get_message", "message_id", victim.message_id, raw=client_tests.invalid_utf8)
        victims = {(A, victim.message_id)}
    else:
        hook = client_tests.rewrite("get_message", "message_id", victim.message_id, client_tests.HOSTILE_MESSAGES[case])
        victims = {(A, victim.message_id)}
    faults = WorkspaceFaults(requests_per_second=None, rewrite_body=hook)
    env = api_env_factory(scenario, SimConfig(faults=NO_LIMIT, workspace_faults={A: faults}), api={"max_attempts": 2})

    results = env.ingest_all()  # green: the fetch step did not crash on the hostile answer

    assert detail_keys(env) == truth(env) - victims  # everything else of both workspaces is written
    errs = errors(env)
    assert set(errs) == victims
    for e in errs.values():
        assert e["error_type"] == "MALFORMED_RESPONSE" and not e["permanent"] and not e["resolved"]
        assert len(e["error_message"]) < 300 and "yesterday" not in e["error_message"]
    assert all(r.success for r in results)

    env.sim.set_faults(A, NO_LIMIT)  # the API answers properly again: the next run fetches and resolves
    env.ingest_all()
    assert detail_keys(env) == truth(env)
    assert all(e["resolved"] for e in errors(env).values())


# -- token endpoint trouble ----------------------------------------------------------------------------------
def test_token_endpoint_trouble_is_retried_within_the_call(api_env_factory: Callable[..., ApiEnv]) -> None:
    faults = WorkspaceFaults(requests_per_second=None, faults=(
        Fault("timeout", kinds=frozenset({"oidc_discovery"}), limit=1, delay_s=5.0),
        Fault("503", kinds=frozenset({"token"}), limit=2),
    ))
    env = api_env_factory(config=SimConfig(faults=faults), api={"max_attempts": 4, "timeout_s": 0.5})
    results = env.ingest_all()
    assert detail_keys(env) == truth(env) and errors(env) == {}  # no NO_TOKEN row anywhere
    for ws, result in zip(WORKSPACES, results, strict=True):
        assert env.sim.stats(ws).by_kind["oidc_discovery"] == 2 and env.sim.stats(ws).by_kind["token"] == 3
        retries, requests = (figure(result, name) for name in ("retries", "requests"))
        assert retries >= 3 and requests >= len(truth(env, ws)) + 3  # the failed token attempts were counted


# -- credentials -----------------------------------------------------------------------------------------------
def test_an_unset_secret_variable_gives_retryable_no_token_rows(api_env_factory: Callable[..., ApiEnv],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    env = api_env_factory()
    secret = env.sim.client_secret
    monkeypatch.delenv("GENIE_OBS_CLIENT_SECRET")
    run(env, A)  # may fail (nothing could be fetched), but only after recording why, message by message
    errs = errors(env)
    assert set(errs) == truth(env, A) and env.sim.stats(A).requests == 0
    for e in errs.values():
        assert e["error_type"] == "NO_TOKEN" and not e["permanent"]
        assert "GENIE_OBS_CLIENT_SECRET is not set" in e["error_message"] and secret not in e["error_message"]
    monkeypatch.setenv("GENIE_OBS_CLIENT_SECRET", secret)
    env.ingest_all()
    assert detail_keys(env) == truth(env)
    assert all(e["resolved"] for e in errors(env).values())


def test_a_workspace_with_a_wrong_secret_does_not_stop_the_other_and_recovers(
        api_env_factory: Callable[..., ApiEnv], monkeypatch: pytest.MonkeyPatch) -> None:
    env = api_env_factory()
    raw = env.settings.model_dump(mode="json", by_alias=True, exclude_none=True)
    raw["workspaces"][0]["credentials"] = {"client_id": {"env": "GENIE_OBS_CLIENT_ID"},
                                           "client_secret": {"env": "GENIE_OBS_A_SECRET"}}
    env.settings = parse_settings(raw)
    assert env.settings.credentials_for(A).client_secret.env == "GENIE_OBS_A_SECRET"
    env.defs = build_definitions(env.settings)
    monkeypatch.setenv("GENIE_OBS_A_SECRET", "not-the-right-secret")

    run(env, A)
    assert env.run_range(B, env.scenario.start_date, env.last_day, "genie_ingest").success
    assert {k for k in detail_keys(env) if k[0] == B} == truth(env, B)  # B: everything written
    errs = errors(env)
    assert set(errs) == truth(env, A)  # A: every message has a row saying why
    for e in errs.values():
        assert e["error_type"] in ("NO_TOKEN", "AUTH_ERROR") and not e["permanent"] and not e["resolved"]
        assert "not-the-right-secret" not in e["error_message"]

    monkeypatch.setenv("GENIE_OBS_A_SECRET", env.sim.client_secret)  # the credential is fixed
    env.run_range(A, env.scenario.start_date, env.last_day, "genie_ingest")
    assert detail_keys(env) == truth(env)
    assert all(e["resolved"] for e in errors(env).values())


# -- the secret in no log ----------------------------------------------------------------------------------
class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))  # message, arguments, and any traceback


@pytest.fixture
def debug_logs() -> Iterator[_Capture]:
    """Every Python log record, at DEBUG, from every logger that propagates to the root."""
    root, handler = logging.getLogger(), _Capture()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def secret_forms(client_id: str, secret: str) -> list[str]:
    b64 = base64.b64encode(secret.encode()).decode()
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return [secret, urllib.parse.quote(secret), urllib.parse.quote_plus(secret), b64, b64.rstrip("="), basic,
            f"Basic {basic}", f"client_secret={urllib.parse.quote_plus(secret)}"]


def test_the_secret_is_in_no_log_output_or_event(api_env_factory: Callable[..., ApiEnv], debug_logs: _Capture,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    secret = "Zq9-sEcReT/+=&ünïque-7731"
    faults = WorkspaceFaults(requests_per_second=None, faults=(
        Fault("503", kinds=frozenset({"token"}), limit=1), Fault("500", kinds=frozenset({"get_message"}), limit=3)))
    env = api_env_factory(config=SimConfig(client_secret=secret, faults=faults), api={"max_attempts": 1})
    results = env.ingest_all()
    rerun = run(env, A)  # the messages that failed, again
    texts = list(debug_logs.texts)
    out, err = capfd.readouterr()
    texts += [out, err]
    for r in [*results, rerun]:
        texts += [str(rec) for rec in env.instance.all_logs(r.run_id)]
    assert len(debug_logs.texts) > 50  # DEBUG records were captured (HTTP connections, requests, ...)
    assert any("/oidc/v1/token" in t for t in texts)  # the token request itself was logged (by urllib3)
    leaks = [(form, t[:200]) for t in texts for form in secret_forms(env.sim.client_id, secret) if form in t]
    assert not leaks
    assert "Bearer " not in "\n".join(texts)
