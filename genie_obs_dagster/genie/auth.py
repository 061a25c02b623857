"""OAuth M2M per workspace, with credentials resolved from their references when the first token is needed.

The flow is the one Databricks documents and databricks-sdk 0.60 performs (genie-api.md §0.1):
``GET {host}/oidc/.well-known/oauth-authorization-server`` -> ``token_endpoint``; ``POST`` it with HTTP Basic
``client_id:client_secret`` and ``grant_type=client_credentials&scope=all-apis``; header
``"{token_type} {access_token}"``; the token is renewed 40 s before ``expires_in`` runs out.

It is done here rather than through ``databricks.sdk.config.Config`` because the SDK 0.60 cannot be bounded
or classified: its token POST (``oauth.retrieve_token``) is sent without a timeout (a hanging token endpoint
blocks the workspace for ever), its discovery GET runs in a default ``_BaseClient`` that retries on its own
for up to 300 s, and a failed token POST becomes ``ValueError("unknown: unknown")`` whatever the HTTP status
(``test_genie_client.test_sdk_token_errors_lose_the_status`` pins that). Here every failure is typed: a
*transient* :class:`CredentialError` (5xx, 429, timeout, connection failure, broken body) is retried by
``GenieClient.request`` like any other request; a definite rejection (400/401 ``invalid_client``, 403, 404,
unset environment variable) is not. ``test_our_token_requests_match_the_sdks`` fails if the SDK's wire
sequence changes.

Secrets are held in memory only and never appear in logs, reprs, metadata or exception messages.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from ..settings import SecretRef
from .errors import MALFORMED_RESPONSE, NO_TOKEN, RATE_LIMITED, SERVER_ERROR, TIMEOUT, GenieApiError

EXPIRY_MARGIN_S = 40.0  # what databricks-sdk does: a token is renewed 40 s before it expires
DISCOVERY_PATH = "/oidc/.well-known/oauth-authorization-server"
Secret = str | Callable[[], str]  # a value, or how to resolve it on first use


@dataclass
class CredentialError(GenieApiError):
    """No token could be obtained. ``transient``: worth asking again within the same call (``cause`` says
    why: SERVER_ERROR, TIMEOUT, RATE_LIMITED or MALFORMED_RESPONSE; ``retry_after_s`` when the server said)."""

    transient: bool = False
    cause: str | None = None


def resolve_secret(ref: SecretRef, environ: Mapping[str, str] | None = None,
                   secret_reader: Callable[[str, str], str] | None = None) -> str:
    """The secret's value. ``secret_reader(scope, key)`` reads a Databricks secret scope (on Databricks)."""
    environ = os.environ if environ is None else environ
    if ref.env:
        value = environ.get(ref.env)
        if not value:
            raise CredentialError(NO_TOKEN, f"environment variable {ref.env} is not set (it should hold a credential)")
        return value
    reader = secret_reader or read_databricks_secret
    assert ref.secret_scope and ref.key
    return reader(ref.secret_scope, ref.key)


def read_databricks_secret(scope: str, key: str) -> str:
    """Read a secret scope key with the ambient Databricks identity (a job or notebook on Databricks)."""
    from databricks.sdk import WorkspaceClient

    try:
        value = WorkspaceClient().secrets.get_secret(scope=scope, key=key).value or ""
    except Exception as exc:  # the SDK's message never holds the secret value
        raise CredentialError(NO_TOKEN, f"cannot read secret {scope}/{key}: {type(exc).__name__}") from None
    return base64.b64decode(value).decode()


class OAuthTokenSource:
    """One service principal's OAuth M2M token for one workspace (thread-safe, one token request at a time).

    ``client_id`` / ``client_secret`` are values or zero-argument callables resolved on the first token
    request (so an unset environment variable is a ``NO_TOKEN`` error of each message, not a crash).
    """

    def __init__(self, host: str, client_id: Secret, client_secret: Secret, http_timeout_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.host = host.rstrip("/")
        self._client_id_ref = client_id
        self._secret_ref = client_secret
        self._client_id: str | None = client_id if isinstance(client_id, str) else None
        self._secret: str | None = client_secret if isinstance(client_secret, str) else None
        self._timeout = http_timeout_s
        self._clock = clock
        self._session = requests.Session()
        self._lock = threading.Lock()
        self._token_url: str | None = None
        self._header: str | None = None
        self._expires_at = 0.0
        self._failures = 0  # failed token requests so far; a thread that waited on one shares its answer
        self._last_error: CredentialError | None = None

    def __repr__(self) -> str:  # never show the secret
        shown = self._client_id if self._client_id is not None else "<not resolved>"
        return f"OAuthTokenSource(host={self.host!r}, client_id={shown!r})"

    __str__ = __repr__

    def close(self) -> None:
        self._session.close()

    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header; raises :class:`CredentialError`."""
        seen_failures = self._failures
        with self._lock:
            if self._header is not None and self._clock() < self._expires_at:
                return {"Authorization": self._header}
            if self._failures != seen_failures and self._last_error is not None:
                # Another thread's token request failed while this one waited: that was this attempt.
                raise _copy(self._last_error)
            try:
                self._header, self._expires_at = self._fetch()
            except CredentialError as exc:
                self._failures += 1
                self._last_error = exc
                raise
            return {"Authorization": self._header}

    def invalidate(self) -> None:
        """Forget the token (after a 401): the next call authenticates again."""
        with self._lock:
            self._header = None

    # -- the flow --------------------------------------------------------------------------------------
    def _credentials(self) -> tuple[str, str]:
        if self._client_id is None:
            self._client_id = _resolve(self._client_id_ref)
        if self._secret is None:
            self._secret = _resolve(self._secret_ref)
        return self._client_id, self._secret

    def _fetch(self) -> tuple[str, float]:
        client_id, secret = self._credentials()
        if self._token_url is None:
            doc = self._call("GET", self.host + DISCOVERY_PATH, "OAuth discovery")
            url = doc.get("token_endpoint")
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise CredentialError(NO_TOKEN, f"OAuth discovery of {self.host} names no token_endpoint", 200,
                                      transient=True, cause=MALFORMED_RESPONSE)
            self._token_url = url
        body = self._call("POST", self._token_url, "OAuth token request", auth=(client_id, secret),
                          data={"grant_type": "client_credentials", "scope": "all-apis"})
        access, kind, ttl = body.get("access_token"), body.get("token_type"), body.get("expires_in")
        if isinstance(ttl, str) and ttl.isdigit():
            ttl = int(ttl)
        if not (isinstance(access, str) and access and isinstance(kind, str) and kind
                and isinstance(ttl, int) and not isinstance(ttl, bool) and ttl > 0):
            raise CredentialError(NO_TOKEN, f"OAuth token answer of {self.host} lacks access_token, token_type or "
                                  "expires_in", 200, transient=True, cause=MALFORMED_RESPONSE)
        margin = min(EXPIRY_MARGIN_S, ttl / 2)
        return f"{kind} {access}", self._clock() + ttl - margin

    def _call(self, method: str, url: str, what: str, **kw: Any) -> dict[str, Any]:
        """One OAuth request; every failure is a typed :class:`CredentialError` whose text holds no secret."""
        where = f"{what} to {self.host}"
        try:
            resp = self._session.request(method, url, timeout=self._timeout, allow_redirects=False, **kw)
        except requests.Timeout:
            raise CredentialError(NO_TOKEN, f"{where}: no answer within {self._timeout:g}s", transient=True,
                                  cause=TIMEOUT) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:
            raise CredentialError(NO_TOKEN, f"{where}: connection failed ({type(exc).__name__})", transient=True,
                                  cause=SERVER_ERROR) from None
        except requests.RequestException as exc:  # invalid URL and the like: asking again will not help
            raise CredentialError(NO_TOKEN, f"{where} failed: {type(exc).__name__}") from None
        status = resp.status_code
        if status == 200:
            try:
                body = json.loads(resp.content)
            except ValueError:
                body = None
            if isinstance(body, dict):
                return body
            raise CredentialError(NO_TOKEN, f"{where}: answer is not a JSON object", 200, transient=True,
                                  cause=MALFORMED_RESPONSE)
        code, description = self._error_of(resp)
        text = f"{where}: HTTP {status}" + (f" {code}" if code else "") + (f": {description}" if description else "")
        if status == 429 or status >= 500:
            return self._raise_transient(resp, text, code)
        # 400/401 invalid_client, unknown client, 403, 404 (no OAuth there): a definite answer, not retried now.
        raise CredentialError(NO_TOKEN, text, status, code)

    def _raise_transient(self, resp: requests.Response, text: str, code: str | None) -> dict[str, Any]:
        retry_after: float | None
        try:
            retry_after = float(resp.headers.get("Retry-After", ""))
        except ValueError:
            retry_after = None
        raise CredentialError(NO_TOKEN, text, resp.status_code, code, transient=True,
                              cause=RATE_LIMITED if resp.status_code == 429 else SERVER_ERROR, retry_after_s=retry_after)

    def _error_of(self, resp: requests.Response) -> tuple[str | None, str]:
        """(code, description) of an OAuth (``error``) or Databricks (``error_code``) error body, secret-free."""
        try:
            body = json.loads(resp.content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return None, (resp.reason or "")[:100]
        code = body.get("error") or body.get("error_code")
        description = body.get("error_description") or body.get("message") or ""
        code = _scrub(str(code)[:100], self._secret) if code else None
        return code, _scrub(str(description)[:300], self._secret)


def _resolve(ref: Secret) -> str:
    if isinstance(ref, str):
        return ref
    value = ref()
    if not isinstance(value, str) or not value:
        raise CredentialError(NO_TOKEN, "a credential resolved to an empty value")
    return value


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def _copy(exc: CredentialError) -> CredentialError:
    return CredentialError(exc.error_type, exc.message, exc.http_status, exc.error_code, exc.attempts,
                           exc.retry_after_s, exc.transient, exc.cause)
