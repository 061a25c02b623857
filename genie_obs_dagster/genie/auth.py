"""OAuth M2M per workspace through databricks-sdk, with credentials resolved from their references.

The SDK performs the discovery and token calls exactly as Databricks documents them, caches the token and
refreshes it before expiry; we only ask it for the ``Authorization`` header. Secrets are resolved at the
last moment, held in memory only, and never appear in logs, metadata or exception messages.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable, Mapping

from databricks.sdk.config import Config

from ..settings import SecretRef
from .errors import NO_TOKEN, GenieApiError


class CredentialError(GenieApiError):
    pass


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
    """One service principal's OAuth M2M token for one workspace (thread-safe; the SDK refreshes it)."""

    def __init__(self, host: str, client_id: str, client_secret: str, http_timeout_s: float = 30.0):
        self.host = host
        self._client_id = client_id
        self._client_secret = client_secret
        self._timeout = http_timeout_s
        self._config: Config | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the secret
        return f"OAuthTokenSource(host={self.host!r}, client_id={self._client_id!r})"

    def _build(self) -> Config:
        try:
            return Config(host=self.host, client_id=self._client_id, client_secret=self._client_secret,
                          auth_type="oauth-m2m", http_timeout_seconds=self._timeout, retry_timeout_seconds=60)
        except Exception as exc:
            raise CredentialError(NO_TOKEN, f"OAuth M2M setup failed for {self.host}: {_safe(exc, self._client_secret)}") from None

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._config is None:
                self._config = self._build()
            config = self._config
        try:
            return config.authenticate()
        except Exception as exc:
            raise CredentialError(NO_TOKEN, f"OAuth token request failed for {self.host}: {_safe(exc, self._client_secret)}") from None

    def invalidate(self) -> None:
        """Forget the token (after a 401): the next call authenticates again."""
        with self._lock:
            self._config = None


def _safe(exc: BaseException, secret: str) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text.replace(secret, "***") if secret else text
