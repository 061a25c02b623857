"""OAuth M2M as a Databricks workspace serves it (genie-api.md §0.1), and bearer-token checks.

Sequence the SDK performs: ``GET /.well-known/databricks-config`` (newer SDKs) -> ``GET
/oidc/.well-known/oauth-authorization-server`` -> ``POST /oidc/v1/token`` with HTTP Basic client
credentials and ``grant_type=client_credentials&scope=all-apis``. Tokens are opaque, per workspace, and
expire after the configured TTL on the real monotonic clock. Secrets and tokens are never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs

from .config import Principal
from .protocol import ApiError, Request, Response, json_response
from .routing import Call, Route, route

BEARER = "Bearer"


def _oauth_error(status: int, error: str, description: str) -> ApiError:
    """OAuth endpoints answer in RFC 6749 shape, not the Databricks ``error_code`` shape."""
    return ApiError(status, error, description, body={"error": error, "error_description": description})


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", message)


class TokenStore:
    """Issues and checks access tokens of one workspace."""

    def __init__(self, principals: Iterable[Principal], ttl_s: int, monotonic: Callable[[], float] = time.monotonic):
        self._principals = {p.client_id: p for p in principals}
        self._ttl_s = ttl_s
        self._now = monotonic
        self._tokens: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def _client_credentials(self, request: Request, form: dict[str, list[str]]) -> tuple[str, str]:
        auth = request.header("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:], validate=True).decode("latin-1").partition(":")
            except (binascii.Error, ValueError):
                raise _oauth_error(401, "invalid_client", "Client authentication failed") from None
            return client_id, secret
        return form.get("client_id", [""])[-1], form.get("client_secret", [""])[-1]

    def issue(self, request: Request) -> dict[str, object]:
        """Client-credentials grant: the token response, or an OAuth error."""
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        grant = form.get("grant_type", [""])[-1]
        if grant != "client_credentials":
            raise _oauth_error(400, "unsupported_grant_type", f"Grant type {grant!r} is not supported")
        client_id, secret = self._client_credentials(request, form)
        principal = self._principals.get(client_id)
        if principal is None or not hmac.compare_digest(principal.client_secret.encode(), secret.encode()):
            raise _oauth_error(401, "invalid_client", "Client authentication failed")
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self._lock:
            self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}
            self._tokens[token] = (principal, now + self._ttl_s)
            self.issued += 1
        scope = form.get("scope", ["all-apis"])[-1] or "all-apis"
        return {"access_token": token, "token_type": BEARER, "expires_in": self._ttl_s, "scope": scope}

    def revoke_all(self) -> None:
        """Forget every issued token (what an admin revoking OAuth secrets does to live clients)."""
        with self._lock:
            self._tokens.clear()

    def authenticate(self, request: Request) -> Principal:
        auth = request.header("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme != BEARER or not token:
            raise _unauthenticated("Credential was not sent or was of an unsupported type for this API.")
        with self._lock:
            found = self._tokens.get(token.strip())
        if found is None:
            raise _unauthenticated("Invalid access token.")
        principal, expires = found
        if expires <= self._now():
            raise _unauthenticated("Access token has expired.")
        return principal


def _base_url(call: Call) -> str:
    """URLs in discovery documents use the host the client addressed (127.0.0.1 vs localhost)."""
    host = call.request.header("Host")
    return f"http://{host}" if host else call.app.base_url


def host_metadata(call: Call) -> Response:
    ws = call.app.state.workspace
    return json_response({"oidc_endpoint": f"{_base_url(call)}/oidc", "account_id": ws.account_id,
                          "workspace_id": ws.workspace_id, "cloud": "aws"})


def oidc_discovery(call: Call) -> Response:
    base = f"{_base_url(call)}/oidc"
    return json_response({
        "issuer": base,
        "authorization_endpoint": f"{base}/v1/authorize",
        "token_endpoint": f"{base}/v1/token",
        "jwks_uri": f"{base}/jwks.json",
        "scopes_supported": ["all-apis", "offline_access", "openid", "profile", "email", "sql", "genie"],
        "response_types_supported": ["code", "id_token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "request_uri_parameter_supported": False,
    })


def token(call: Call) -> Response:
    return json_response(call.app.tokens.issue(call.request), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


ROUTES: tuple[Route, ...] = (
    route("GET", "/.well-known/databricks-config", "host_metadata", host_metadata, authenticated=False),
    route("GET", "/oidc/.well-known/oauth-authorization-server", "oidc_discovery", oidc_discovery, authenticated=False),
    route("POST", "/oidc/v1/token", "token", token, authenticated=False),
)
