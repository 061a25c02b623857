"""A Genie REST client for one workspace: request budget, bounded retries honouring ``Retry-After``,
a per-request timeout, pagination, and failures classified for ``message_fetch_errors``.

OAuth tokens come from :mod:`.auth`; getting one is part of each attempt, so a token endpoint that fails
transiently (5xx, 429, timeout, connection) is retried with the same budget, backoff and counters as the API
call itself, while a rejected credential fails the call at once (``NO_TOKEN``). Requests go through one pooled
``requests`` session so that every attempt, 429 and retry is ours to count, bound and report (the SDK's own
retry loop would hide them). Responses are checked against the SDK's dataclasses and the documented JSON
types before use: a body of the wrong shape is ``MALFORMED_RESPONSE`` for that call only.
"""

from __future__ import annotations

import json
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
from .auth import CredentialError, OAuthTokenSource
from .budget import RequestBudget
from .rows import message_problem, user_problem
from .spaces import parse_rfc3339

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
    token_failures: int = 0        # attempts that found no token (token endpoint down, credential rejected)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: int) -> None:
        with self._lock:
            for k, v in deltas.items():
                setattr(self, k, getattr(self, k) + v)

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "throttled_429": self.throttled, "retries": self.retries,
                "token_refreshes": self.token_refreshes, "token_failures": self.token_failures}


def _retryable(error: E.GenieApiError) -> bool:
    """Worth another attempt within the same call (later runs retry every non-permanent error anyway)."""
    if isinstance(error, CredentialError):
        return error.transient
    return error.error_type in E.RETRYABLE


def _header_seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def check_id(value: str, what: str) -> str:
    """Ids that reach a URL path are validated (Genie ids are 32 lowercase hex)."""
    if not isinstance(value, str) or not HEX32.match(value):
        raise E.GenieApiError(E.BAD_REQUEST, f"{what} {value!r} is not a 32-character lowercase hex id")
    return value


def message_body_problem(body: Any, message_id: str) -> str | None:
    """Why ``body`` is not a usable GenieMessage of ``message_id`` (a short, value-free text), or None: every
    field of its documented JSON type, parsed by the SDK's ``GenieMessage``, the message asked for, a known
    status and a creation time. The same check for a GET answer and for an item of a conversation listing."""
    problem = message_problem(body)
    if problem is None:
        try:
            parsed = GenieMessage.from_dict(body)
        except Exception as exc:  # the SDK's parser meets a shape it does not expect
            problem = f"does not parse as a GenieMessage ({type(exc).__name__})"
        else:
            if (parsed.message_id or parsed.id) != message_id or parsed.status is None or not parsed.created_timestamp:
                problem = "lacks message_id, a known status or created_timestamp"
    return problem


SPACE_TEXT_FIELDS = ("title", "description", "warehouse_id", "serialized_space", "etag", "parent_path")


def space_body_problem(body: Any, space_id: str) -> str | None:
    """Why ``body`` is not a usable GenieSpace of ``space_id`` (a short, value-free text), or None: the space asked
    for, its text fields text, its times RFC 3339, and ``serialized_space`` JSON the product can read (text that is
    not JSON is kept as it is; nesting deeper than Python's parser goes is not)."""
    if not isinstance(body, dict):
        return "space body is not a JSON object"
    try:
        if GenieSpace.from_dict(body).space_id != space_id:
            return "space body lacks the space_id asked for"
    except Exception as exc:  # the SDK's parser meets a shape it does not expect
        return f"does not parse as a GenieSpace ({type(exc).__name__})"
    wrong = [k for k in SPACE_TEXT_FIELDS if body.get(k) is not None and not isinstance(body[k], str)]
    if wrong:
        return f"space fields that are not text: {', '.join(wrong)}"
    for k in ("create_time", "update_time"):
        try:
            parse_rfc3339(body.get(k))
        except (TypeError, ValueError):
            return f"space {k} is not an RFC 3339 time"
    try:
        json.loads(body.get("serialized_space") or "null")
    except ValueError:
        pass  # kept as text: the history and the backups never lose what was seen
    except RecursionError:
        return "space serialized_space is nested too deeply to read"
    return None


class GenieClient:
    def __init__(self, workspace_id: str, host: str, tokens: OAuthTokenSource, settings: ClientSettings | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        """``sleep`` and ``clock`` are injectable together (a fake clock that ``sleep`` advances)."""
        self.workspace_id = workspace_id
        self.host = host.rstrip("/")
        self.tokens = tokens
        self.settings = settings or ClientSettings()
        self.budget = RequestBudget(self.settings.rate_per_s, clock=clock, sleep=sleep)
        self.stats = CallStats()
        self._sleep = sleep
        self._session = requests.Session()
        pool = max(4, self.settings.concurrency)
        self._session.mount("http://", HTTPAdapter(pool_connections=pool, pool_maxsize=pool))
        self._session.mount("https://", HTTPAdapter(pool_connections=pool, pool_maxsize=pool))
        self._users: dict[int, dict[str, Any] | None] = {}
        self.listing_available = True  # False once the workspace answers that it has no conversation listing
        self._users_lock = threading.Lock()

    def close(self) -> None:
        self._session.close()
        self.tokens.close()

    # -- transport -----------------------------------------------------------------------------------
    def _backoff(self, attempt: int) -> float:
        base = min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2 ** (attempt - 1))
        return base * (0.5 + random.random() / 2)

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None, *,
                body: Mapping[str, Any] | None = None, idempotent: bool = True) -> dict[str, Any]:
        """One API call with budget, retries and classification; returns the JSON object.

        ``body`` is sent as JSON. A call that is not ``idempotent`` (POST create space: a replay creates a second
        space) is retried only when the server certainly did nothing: no token yet, 401 (renewed once) or 429;
        a timeout, 5xx, dropped connection or broken answer is raised at once, since the first attempt may have
        acted (the caller decides how to find out)."""
        last: E.GenieApiError | None = None
        refreshed = False
        for attempt in range(1, self.settings.max_attempts + 1):
            self.budget.acquire()
            self.stats.add(requests=1, retries=1 if attempt > 1 else 0)
            try:
                headers = self.tokens.headers()
            except CredentialError as exc:
                self.stats.add(token_failures=1)
                exc.attempts = attempt
                if not exc.transient:  # a rejected or missing credential: asking again now will not help
                    raise
                last = exc
                if exc.cause == E.RATE_LIMITED:
                    self.stats.add(throttled=1)
                    self.budget.pause(self._clamp(exc.retry_after_s, attempt))
                    continue
            else:
                got = self._send(method, path, params, headers, attempt, body)
                if isinstance(got, dict):
                    return got
                last = got
                if last.error_type == E.AUTH_ERROR and not refreshed:
                    # A token can expire or be revoked between its refresh and our call: renew once.
                    refreshed = True
                    self.tokens.invalidate()
                    self.stats.add(token_refreshes=1)
                    continue
                if last.error_type == E.RATE_LIMITED:
                    self.stats.add(throttled=1)
                    self.budget.pause(self._clamp(last.retry_after_s, attempt))
                    continue
                if not idempotent:  # the first attempt may have acted: never replay it blindly
                    break
            if not _retryable(last) or attempt == self.settings.max_attempts:
                break
            self._sleep(self._backoff(attempt))
        assert last is not None
        last.attempts = attempt
        raise last

    def _send(self, method: str, path: str, params: Mapping[str, Any] | None, headers: Mapping[str, str],
              attempt: int, body: Mapping[str, Any] | None = None) -> dict[str, Any] | E.GenieApiError:
        """One HTTP attempt: the JSON object, or the classified failure (``retry_after_s`` set on a 429)."""
        try:
            resp = self._session.request(method, self.host + path, params=params, headers=headers,
                                         timeout=self.settings.timeout_s, json=body)
        except requests.Timeout:
            return E.GenieApiError(E.TIMEOUT, f"no answer within {self.settings.timeout_s:g}s", attempts=attempt)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            return E.GenieApiError(E.MALFORMED_RESPONSE, f"truncated body: {type(exc).__name__}", attempts=attempt)
        except requests.RequestException as exc:
            return E.GenieApiError(E.SERVER_ERROR, f"connection failed: {type(exc).__name__}", attempts=attempt)
        if resp.status_code == 200 and method == "DELETE" and not resp.content.strip():
            return {}  # DELETE answers an empty body (the SDK reads it as {})
        if resp.status_code == 200:
            try:  # JSON is UTF-8 (RFC 8259): undecodable bytes are a broken body, not text to guess at
                body = json.loads(resp.content)
            except ValueError:  # UnicodeDecodeError included
                body = None
            if isinstance(body, dict):
                return body
            return E.GenieApiError(E.MALFORMED_RESPONSE, "body is not a UTF-8 JSON object", 200, attempts=attempt)
        error = self._http_error(resp, attempt)
        if error.error_type == E.RATE_LIMITED:
            error.retry_after_s = _header_seconds(resp.headers.get("Retry-After"))
        return error

    def _clamp(self, retry_after: float | None, attempt: int) -> float:
        """How long to pause every caller after a 429: the server's ``Retry-After``, else our backoff."""
        wait = self._backoff(attempt) if retry_after is None else retry_after
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

    def _page_lists(self, path: str, items_key: str, params: Mapping[str, Any]) -> Iterator[list[Any]]:
        """The items of each page, one list per request; the next page is asked for only when wanted."""
        token: str | None = None
        while True:
            body = self.request("GET", path, {**params, **({"page_token": token} if token else {})})
            items = body.get(items_key) or []
            if not isinstance(items, list):
                raise E.GenieApiError(E.MALFORMED_RESPONSE, f"{items_key} is not a list", 200)
            yield items
            token = body.get("next_page_token")
            if not token:
                return
            if not isinstance(token, str):
                raise E.GenieApiError(E.MALFORMED_RESPONSE, "next_page_token is not a string", 200)

    def _pages(self, path: str, items_key: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        for items in self._page_lists(path, items_key, params):
            yield from items

    # -- Genie endpoints -------------------------------------------------------------------------------
    def get_message(self, space_id: str, conversation_id: str, message_id: str) -> dict[str, Any]:
        """The message as the API answers it, checked: the message asked for, a known status, a creation time,
        and every field of its documented JSON type (else ``MALFORMED_RESPONSE``, never another exception)."""
        path = (f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/conversations/"
                f"{check_id(conversation_id, 'conversation id')}/messages/{check_id(message_id, 'message id')}")
        body = self.request("GET", path)
        problem = message_body_problem(body, message_id)
        if problem is not None:
            raise E.GenieApiError(E.MALFORMED_RESPONSE, f"message body {problem}", 200)
        return body

    def get_space(self, space_id: str, include_serialized_space: bool = True) -> dict[str, Any]:
        path = f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}"
        body = self.request("GET", path, {"include_serialized_space": "true" if include_serialized_space else "false"})
        problem = space_body_problem(body, space_id)
        if problem:
            raise E.GenieApiError(E.MALFORMED_RESPONSE, problem, 200)
        return body

    def list_spaces(self, page_size: int = 100) -> Iterator[dict[str, Any]]:
        return self._pages("/api/2.0/genie/spaces", "spaces", {"page_size": page_size})

    # Space management (genie-api.md 1.1): not in the pinned SDK (0.60), so through :meth:`request`.
    def create_space(self, warehouse_id: str, serialized_space: str, title: str | None = None,
                     description: str | None = None, parent_path: str | None = None) -> dict[str, Any]:
        """``POST /api/2.0/genie/spaces``. Not idempotent: never replayed after an ambiguous failure (a timeout,
        5xx or broken answer is raised at once; see :meth:`request`)."""
        body = {"warehouse_id": warehouse_id, "serialized_space": serialized_space, "title": title,
                "description": description, "parent_path": parent_path}
        got = self.request("POST", "/api/2.0/genie/spaces", body={k: v for k, v in body.items() if v is not None},
                           idempotent=False)
        if not isinstance(got.get("space_id"), str) or not HEX32.match(got["space_id"]):
            raise E.GenieApiError(E.MALFORMED_RESPONSE, "create space answer lacks a space_id", 200)
        return got

    def update_space(self, space_id: str, *, etag: str | None = None, **fields: Any) -> dict[str, Any]:
        """``PATCH /api/2.0/genie/spaces/{id}`` with the given fields (``serialized_space`` replaces the whole
        configuration) and ``etag``: the workspace refuses the update if the space changed since that etag
        (409 ``ABORTED`` in the simulated workspace). Not replayed after an ambiguous failure: a replay of an
        update that went through would meet its own new etag."""
        body = {k: v for k, v in fields.items() if v is not None}
        if etag:
            body["etag"] = etag
        return self.request("PATCH", f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}", body=body,
                            idempotent=False)

    def trash_space(self, space_id: str) -> None:
        """``DELETE /api/2.0/genie/spaces/{id}``: moves the space to the trash (idempotent: retried)."""
        self.request("DELETE", f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}")

    def list_conversations(self, space_id: str, include_all: bool = True, page_size: int = 100) -> Iterator[dict[str, Any]]:
        path = f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/conversations"
        return self._pages(path, "conversations", {"include_all": "true" if include_all else "false", "page_size": page_size})

    def list_conversation_messages(self, space_id: str, conversation_id: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every message of a conversation (items as listed, not checked: see :func:`message_body_problem`)."""
        for items in self.conversation_message_pages(space_id, conversation_id, page_size):
            yield from items

    def conversation_message_pages(self, space_id: str, conversation_id: str, page_size: int = 100) -> Iterator[list[Any]]:
        """``GET .../conversations/{id}/messages`` (genie-api.md §1.2: ``page_size``, ``page_token`` ->
        ``{messages: [GenieMessage], next_page_token?}``), one list of raw items per page and request. The pinned
        SDK (0.60) lacks the method, so it goes through :meth:`request` (budget, retries, counters)."""
        path = (f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/conversations/"
                f"{check_id(conversation_id, 'conversation id')}/messages")
        return self._page_lists(path, "messages", {"page_size": page_size})

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
        problem = user_problem(user)
        if problem is not None:  # not cached: a later message (or run) asks again
            raise E.GenieApiError(E.MALFORMED_RESPONSE, f"SCIM user body {problem}", 200)
        with self._users_lock:
            self._users[user_id] = user
        return user

    # -- eval runs (benchmarks; genie-api.md 1.4, 2.6): not in the pinned SDK (0.60), so through :meth:`request` --
    def start_eval_run(self, space_id: str, benchmark_question_ids: list[str] | None = None) -> dict[str, Any]:
        """``POST /spaces/{id}/eval-runs`` (omitted ids = every benchmark question): the new GenieEvalRunResponse.
        Not idempotent: retried only where the server certainly started nothing (no token yet, 401 renewed once,
        429); a timeout, 5xx or broken answer is raised at once, since a run may have started all the same. The
        caller then finds such a run by listing the space's runs (``lifecycle.evals`` does, on every pass)."""
        body = {"benchmark_question_ids": benchmark_question_ids} if benchmark_question_ids else {}
        got = self.request("POST", f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/eval-runs", body=body,
                           idempotent=False)
        return _eval_run_checked(got)

    def get_eval_run(self, space_id: str, eval_run_id: str) -> dict[str, Any]:
        path = f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/eval-runs/{check_id(eval_run_id, 'eval run id')}"
        return _eval_run_checked(self.request("GET", path))

    def list_eval_runs(self, space_id: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every eval run of a space (``{eval_runs, next_page_token?}``, all pages), each checked."""
        path = f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/eval-runs"
        return (_eval_run_checked(r) for r in self._pages(path, "eval_runs", {"page_size": page_size}))

    def list_eval_results(self, space_id: str, eval_run_id: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every result of a run (``{eval_results, next_page_token?}``, all pages), each checked for its id."""
        path = (f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/eval-runs/"
                f"{check_id(eval_run_id, 'eval run id')}/results")
        for item in self._pages(path, "eval_results", {"page_size": page_size}):
            if not isinstance(item, dict) or not isinstance(item.get("result_id"), str):
                raise E.GenieApiError(E.MALFORMED_RESPONSE, "eval result lacks result_id", 200)
            yield item

    def get_eval_result(self, space_id: str, eval_run_id: str, result_id: str) -> dict[str, Any]:
        """GenieEvalResultDetails: the result with ``assessment`` (GOOD, BAD, NEEDS_REVIEW) and the responses."""
        path = (f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/eval-runs/"
                f"{check_id(eval_run_id, 'eval run id')}/results/{check_id(result_id, 'eval result id')}")
        got = self.request("GET", path)
        if got.get("result_id") != result_id:
            raise E.GenieApiError(E.MALFORMED_RESPONSE, "eval result body lacks the result_id asked for", 200)
        return got

    # -- questions (POSTs that create a message) -------------------------------------------------------
    def post_question(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A POST that asks Genie a question, **never blindly retried**: the server may have created the message
        before an answer got lost, and asking again would ask twice (genie-api.md §3.4: the SDK retries such
        POSTs on 429 and 503 alike). Retried only where the server certainly created nothing: a 429 (the
        questions-per-minute limit or the request rate; ``Retry-After`` honoured in full, pausing every caller of
        the workspace), a 401 (token refreshed once), and a token that could not be obtained (nothing was sent).
        Every other failure is raised at once; a 5xx, timeout, dropped connection or broken body leaves the
        outcome unknown (:func:`outcome_unknown`) and the caller must look before asking again."""
        return self.request("POST", path, body=body, idempotent=False)

    def start_conversation(self, space_id: str, content: str) -> dict[str, Any]:
        """``POST /spaces/{id}/start-conversation`` (genie-api.md §1.2): ``{conversation_id, message_id,
        conversation, message}``, checked for the two ids (see :meth:`post_question` for retries)."""
        body = self.post_question(f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/start-conversation",
                                  {"content": content})
        for key in ("conversation_id", "message_id"):
            if not isinstance(body.get(key), str) or not HEX32.match(body[key]):
                raise E.GenieApiError(E.MALFORMED_RESPONSE, f"start-conversation answer lacks {key}", 200)
        return body

    def create_message(self, space_id: str, conversation_id: str, content: str) -> dict[str, Any]:
        """``POST /spaces/{id}/conversations/{id}/messages``: the new GenieMessage, checked for its id."""
        path = (f"/api/2.0/genie/spaces/{check_id(space_id, 'space id')}/conversations/"
                f"{check_id(conversation_id, 'conversation id')}/messages")
        body = self.post_question(path, {"content": content})
        mid = body.get("message_id") or body.get("id")
        if not isinstance(mid, str) or not HEX32.match(mid):
            raise E.GenieApiError(E.MALFORMED_RESPONSE, "create-message answer lacks message_id", 200)
        return body


def outcome_unknown(error: E.GenieApiError) -> bool:
    """A failed question POST after which the message may exist all the same (the answer was lost, or the
    server failed after creating it): look for it before asking again."""
    return not isinstance(error, CredentialError) and error.error_type in (E.TIMEOUT, E.SERVER_ERROR,
                                                                             E.MALFORMED_RESPONSE)


def _eval_run_checked(body: Any) -> dict[str, Any]:
    """A GenieEvalRunResponse with an id, a status and integer counters (else ``MALFORMED_RESPONSE``)."""
    ok = (isinstance(body, dict) and isinstance(body.get("eval_run_id"), str) and HEX32.match(body["eval_run_id"])
          and isinstance(body.get("eval_run_status"), str)
          and all(isinstance(body.get(k, 0), int) and not isinstance(body.get(k, 0), bool)
                  for k in ("created_timestamp", "last_updated_timestamp", "num_questions", "num_done", "num_correct",
                            "num_needs_review")))
    if not ok:
        raise E.GenieApiError(E.MALFORMED_RESPONSE, "eval run body lacks eval_run_id, eval_run_status or integer counters", 200)
    return body
