"""A Genie REST client for one workspace: request budget, bounded retries honouring ``Retry-After``,
a per-request timeout, pagination, and failures classified for ``message_fetch_errors``.

OAuth tokens come from databricks-sdk (:mod:`.auth`); requests go through one pooled ``requests``
session so that every attempt, 429 and retry is ours to count, bound and report (the SDK's own retry
loop would hide them). Responses are checked against the SDK's dataclasses before use.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from databricks.sdk.service.dashboards import GenieMessage, GenieSpace
from requests.adapters import HTTPAdapter

from . import errors as E
from .auth import OAuthTokenSource
from .budget import RequestBudget

log = logging.getLogger(__name__)
HEX32 = re.compile(r"^[0-9a-f]{32}$")
DIGITS = re.compile(r"^[0-9]{1,20}$")


@dataclass(frozen=True)
class ClientSettings:
    rate_per_s: float = 20.0       # the workspace's request budget, shared by all threads
    concurrency: int = 8           # requests in flight per workspace
    timeout_s: float = 30.0        # per HTTP request
    max_attempts: int = 6          # per call, retries included
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 120.0


@dataclass
class CallStats:
    """Counters a person reads in the UI after a run (thread-safe)."""

    requests: int = 0
    throttled: int = 0
    retries: int = 0
    token_refreshes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: int) -> None:
        with self._lock:
            for k, v in deltas.items():
                setattr(self, k, getattr(self, k) + v)

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "throttled_429": self.throttled, "retries": self.retries,
                "token_refreshes": self.token_refreshes}


def check_id(value: str, what: str) -> str:
    """Ids that reach a URL path are validated (Genie ids are 32 lowercase hex)."""
    if not isinstance(value, str) or not HEX32.match(value):
        raise E.GenieApiError(E.BAD_REQUEST, f"{what} {value!r} is not a 32-character lowercase hex id")
    return value


class GenieClient:
    def __init__(self, workspace_id: str, host: str, tokens: OAuthTokenSource, settings: ClientSettings | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.workspace_id = workspace_id
        self.host = host.rstrip("/")
        self.tokens = tokens
        self.settings = settings or ClientSettings()
        self.budget = RequestBudget(self.settings.rate_per_s, sleep=sleep)
        self.stats = CallStats()
        self._sleep = sleep
        self._session = requests.Session()
        pool = max(4, self.settings.concurrency)
        self._session.mount("http://", HTTPAdapter(pool_connections=pool, pool_maxsize=pool))
        self._session.mount("https://", HTTPAdapter(pool_connections=pool, pool_maxsize=pool))
        self._users: dict[int, dict[str, Any] | None] = {}
        self._users_lock = threading.Lock()

    def close(self) -> None:
        self._session.close()

    # -- transport -----------------------------------------------------------------------------------
    def _backoff(self, attempt: int) -> float:
        base = min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2 ** (attempt - 1))
        return base * (0.5 + random.random() / 2)

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One API call with budget, retries and classification; returns the JSON object."""
        last: E.GenieApiError | None = None
        refreshed = False
        for attempt in range(1, self.settings.max_attempts + 1):
            self.budget.acquire()
            headers = self.tokens.headers()
            self.stats.add(requests=1, retries=1 if attempt > 1 else 0)
            try:
                resp = self._session.request(method, self.host + path, params=params, headers=headers,
                                             timeout=self.settings.timeout_s)
            except requests.Timeout:
                last = E.GenieApiError(E.TIMEOUT, f"no answer within {self.settings.timeout_s:g}s", attempts=attempt)
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
                last = E.GenieApiError(E.MALFORMED_RESPONSE, f"truncated body: {type(exc).__name__}", attempts=attempt)
            except requests.RequestException as exc:
                last = E.GenieApiError(E.SERVER_ERROR, f"connection failed: {type(exc).__name__}", attempts=attempt)
            else:
                if resp.status_code == 200:
                    try:
                        body = resp.json()
                    except ValueError:
                        body = None
                    if isinstance(body, dict):
                        return body
                    last = E.GenieApiError(E.MALFORMED_RESPONSE, "body is not a JSON object", 200, attempts=attempt)
                else:
                    last = self._http_error(resp, attempt)
                    if last.error_type == E.AUTH_ERROR and not refreshed:
                        # A token can expire or be revoked between the SDK's refresh and our call: renew once.
                        refreshed = True
                        self.tokens.invalidate()
                        self.stats.add(token_refreshes=1)
                        continue
                    if last.error_type == E.RATE_LIMITED:
                        self.stats.add(throttled=1)
                        self.budget.pause(self._retry_after(resp, attempt))
                        continue
            if last.error_type not in E.RETRYABLE or attempt == self.settings.max_attempts:
                break
            self._sleep(self._backoff(attempt))
        assert last is not None
        last.attempts = attempt
        raise last

    def _retry_after(self, resp: requests.Response, attempt: int) -> float:
        header = resp.headers.get("Retry-After", "")
        try:
            wait = float(header)
        except ValueError:
            wait = self._backoff(attempt)
        return min(max(wait, 0.0), self.settings.max_retry_after_s)

    @staticmethod
    def _http_error(resp: requests.Response, attempt: int) -> E.GenieApiError:
        code, message = None, resp.reason or ""
        try:
            body = resp.json()
            if isinstance(body, dict):
                code = body.get("error_code") or body.get("error")
                message = str(body.get("message") or body.get("error_description") or message)[:500]
        except ValueError:
            pass
        return E.GenieApiError(E.classify_status(resp.status_code), message, resp.status_code, code, attempt)

    def _pages(self, path: str, items_key: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            body = self.request("GET", path, {**params, **({"page_token": token} if token else {})})
            items = body.get(items_key) or []
            if not isinstance(items, list):
                raise E.GenieApiError(E.MALFORMED_RESPONSE, f"{items_key} is not a list")
            yield from items
            token = body.get("next_page_token")
            if not token:
                return

    # -- Genie endpoints -------------------------------------------------------------------------------
    def get_message(self, space_id: str, conversation_id: str, message_id: str) -> dict[str, Any]:
        path = (f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/conversations/"
                f"{check_id(conversation_id, 'conversation id')}/messages/{check_id(message_id, 'message id')}")
        body = self.request("GET", path)
        parsed = GenieMessage.from_dict(body)
        if (parsed.message_id or parsed.id) != message_id or parsed.status is None or not parsed.created_timestamp:
            raise E.GenieApiError(E.MALFORMED_RESPONSE, "message body lacks message_id, a known status or created_timestamp", 200)
        return body

    def get_space(self, space_id: str, include_serialized_space: bool = True) -> dict[str, Any]:
        path = f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}"
        body = self.request("GET", path, {"include_serialized_space": "true" if include_serialized_space else "false"})
        if GenieSpace.from_dict(body).space_id != space_id:
            raise E.GenieApiError(E.MALFORMED_RESPONSE, "space body lacks the space_id asked for", 200)
        return body

    def list_spaces(self, page_size: int = 100) -> Iterator[dict[str, Any]]:
        return self._pages("/api/2.0/genie/spaces", "spaces", {"page_size": page_size})

    def list_conversations(self, space_id: str, include_all: bool = True, page_size: int = 100) -> Iterator[dict[str, Any]]:
        path = f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/conversations"
        return self._pages(path, "conversations", {"include_all": "true" if include_all else "false", "page_size": page_size})

    def list_conversation_messages(self, space_id: str, conversation_id: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        path = (f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/conversations/"
                f"{check_id(conversation_id, 'conversation id')}/messages")
        return self._pages(path, "messages", {"page_size": page_size})

    def get_user(self, user_id: int) -> dict[str, Any] | None:
        """SCIM user (cached per client; a user that cannot be read is cached as unknown)."""
        with self._users_lock:
            if user_id in self._users:
                return self._users[user_id]
        if not DIGITS.match(str(user_id)):
            return None
        try:
            user: dict[str, Any] | None = self.request("GET", f"/api/2.0/preview/scim/v2/Users/{user_id}")
        except E.GenieApiError as exc:
            if exc.error_type not in (E.NOT_FOUND, E.PERMISSION_DENIED):
                raise
            user = None
        with self._users_lock:
            self._users[user_id] = user
        return user
