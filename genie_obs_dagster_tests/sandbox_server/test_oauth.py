"""OAuth M2M exactly as the SDK performs it, and bearer-token enforcement on every API call."""

from __future__ import annotations

import logging
import time

import pytest
import requests
from databricks.sdk.errors import Unauthenticated

from genie_obs_dagster.sandbox.server import SimulatedDatabricks

from .conftest import bearer, sdk_client


def test_host_metadata_serves_what_newer_sdks_need(sim: SimulatedDatabricks, wid: str) -> None:
    url = sim.urls[wid]
    meta = requests.get(f"{url}/.well-known/databricks-config", timeout=5)
    assert meta.status_code == 200 and meta.headers["Content-Type"] == "application/json"
    body = meta.json()
    assert body["oidc_endpoint"] == f"{url}/oidc"
    assert body["workspace_id"] == wid and body["cloud"] == "aws" and body["account_id"]
    # The SDK appends the discovery path to oidc_endpoint; that document must name the token endpoint.
    discovery = requests.get(body["oidc_endpoint"] + "/.well-known/oauth-authorization-server", timeout=5).json()
    assert discovery["token_endpoint"] == f"{url}/oidc/v1/token"
    assert discovery["authorization_endpoint"] == f"{url}/oidc/v1/authorize"
    assert discovery["issuer"] == f"{url}/oidc"


def test_token_endpoint_follows_oauth(sim: SimulatedDatabricks, wid: str) -> None:
    token_url = f"{sim.urls[wid]}/oidc/v1/token"
    form = {"grant_type": "client_credentials", "scope": "all-apis"}
    ok = requests.post(token_url, auth=(sim.client_id, sim.client_secret), data=form, timeout=5)
    assert ok.status_code == 200
    body = ok.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == "all-apis"
    assert body["access_token"]

    wrong = requests.post(token_url, auth=(sim.client_id, "not-the-secret"), data=form, timeout=5)
    assert wrong.status_code == 401
    assert wrong.headers["Content-Type"].startswith("application/json")
    assert wrong.json() == {"error": "invalid_client", "error_description": "Client authentication failed"}
    anonymous = requests.post(token_url, data=form, timeout=5)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "invalid_client"
    grant = requests.post(token_url, auth=(sim.client_id, sim.client_secret), data={"grant_type": "password"}, timeout=5)
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


def test_api_calls_need_a_valid_bearer_token_of_that_workspace(sim: SimulatedDatabricks, wid: str) -> None:
    url, other = sim.urls[wid], next(u for k, u in sim.urls.items() if k != wid)
    spaces = f"{url}/api/2.0/genie/spaces"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"},
                    bearer(other, sim.client_id, sim.client_secret)):
        resp = requests.get(spaces, headers=headers, timeout=5)
        assert resp.status_code == 401, headers
        assert resp.json()["error_code"] == "UNAUTHENTICATED"
    assert requests.get(spaces, headers=bearer(url, sim.client_id, sim.client_secret), timeout=5).status_code == 200
    # Unknown API routes are not revealed to anonymous callers either.
    assert requests.get(f"{url}/api/2.0/nothing", timeout=5).status_code == 401


def test_tokens_expire_on_the_server(make_sim) -> None:  # type: ignore[no-untyped-def]
    sim = make_sim(token_ttl_s=1)
    url = next(iter(sim.urls.values()))
    headers = bearer(url, sim.client_id, sim.client_secret)
    assert requests.get(f"{url}/api/2.0/genie/spaces", headers=headers, timeout=5).status_code == 200
    time.sleep(1.05)
    expired = requests.get(f"{url}/api/2.0/genie/spaces", headers=headers, timeout=5)
    assert expired.status_code == 401 and expired.json()["message"] == "Access token has expired."


def test_sdk_requests_a_new_token_when_its_token_expires(make_sim, wid: str) -> None:  # type: ignore[no-untyped-def]
    # The SDK treats a token as expired 40 s early, so a 41 s TTL is "valid for one second" to it
    # (blocking refresh, so the count is exact; async refresh would fetch early in the background).
    sim = make_sim(token_ttl_s=41)
    w = sdk_client(sim.urls[wid], sim.client_id, sim.client_secret, disable_async_token_refresh=True)
    w.genie.list_spaces()
    w.genie.list_spaces()
    assert sim.stats(wid).tokens_issued == 1
    time.sleep(1.1)
    w.genie.list_spaces()
    assert sim.stats(wid).tokens_issued == 2


def test_sdk_with_wrong_secret_fails_with_the_oauth_error(sim: SimulatedDatabricks, wid: str) -> None:
    with pytest.raises(ValueError, match="invalid_client: Client authentication failed"):
        w = sdk_client(sim.urls[wid], sim.client_id, "wrong-secret")
        w.genie.list_spaces()
    assert sim.stats(wid).tokens_issued == 0


def test_sdk_maps_an_expired_token_to_unauthenticated(make_sim, wid: str) -> None:  # type: ignore[no-untyped-def]
    sim = make_sim()
    w = sdk_client(sim.urls[wid], sim.client_id, sim.client_secret)
    w.genie.list_spaces()
    sim.app(wid).tokens.revoke_all()
    with pytest.raises(Unauthenticated):
        w.genie.list_spaces()


def test_server_logs_never_contain_secrets_or_tokens(make_sim, wid: str, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG, logger="genie_obs_dagster")
    sim = make_sim()
    url = sim.urls[wid]
    token = bearer(url, sim.client_id, sim.client_secret)["Authorization"].split()[1]
    requests.get(f"{url}/api/2.0/genie/spaces?page_size=1", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    requests.post(f"{url}/oidc/v1/token", auth=(sim.client_id, "wrong"), data={"grant_type": "client_credentials"}, timeout=5)
    server_logs = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("genie_obs_dagster"))
    assert "GET /api/2.0/genie/spaces -> 200" in server_logs  # logging works, with bare paths
    assert sim.client_secret not in server_logs and token not in server_logs and "wrong" not in server_logs
