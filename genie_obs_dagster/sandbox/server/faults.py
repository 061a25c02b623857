"""Limits and injected faults of one simulated workspace.

A real workspace throttles (HTTP 429 with ``Retry-After``), limits Genie questions to a few per minute,
fails now and then (500/503), hangs, drops connections and, behind broken proxies, returns cut-off
bodies. Clients must survive all of that, so each can be switched on per workspace, aimed at route
kinds (e.g. only ``get_message``), limited to the first N matching requests, and seeded.

Rate limits run on the real monotonic clock: clients wait real seconds for ``Retry-After``, whatever the
simulated business clock says.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Faults answered instead of running the handler: (status, error_code, message).
HTTP_FAULTS: dict[str, tuple[int, str, str]] = {
    "500": (500, "INTERNAL_ERROR", "Internal error. Please try again later."),
    "503": (503, "TEMPORARILY_UNAVAILABLE", "The service is temporarily unavailable. Please try again later."),
    "429": (429, "REQUEST_LIMIT_EXCEEDED", "Too many requests. Please wait a moment and try again."),
}
# Faults applied to the real answer while it is written: hang, close the connection, break the body.
TRANSPORT_FAULTS = frozenset({"timeout", "drop", "short_read", "truncate", "malformed"})


@dataclass(frozen=True)
class Fault:
    """One injected fault.

    ``effect``: ``"500"``, ``"503"``, ``"429"`` (answered before any work is done, nothing changes);
    ``"timeout"`` (wait ``delay_s`` before answering, longer than the client's timeout), ``"drop"`` (close
    the connection without an answer), ``"short_read"`` (close after half the declared body),
    ``"truncate"`` (valid HTTP, JSON cut in half), ``"malformed"`` (valid HTTP, JSON syntax broken); for
    these the request itself is processed (and audited) as usual, only the answer is lost.
    ``kinds``: route kinds it applies to (``None`` = every route). ``limit``: fire at most N times.
    """

    effect: str
    rate: float = 1.0
    kinds: frozenset[str] | None = None
    limit: int | None = None
    delay_s: float = 65.0
    retry_after_s: int = 1

    def __post_init__(self) -> None:
        if self.effect not in HTTP_FAULTS and self.effect not in TRANSPORT_FAULTS:
            raise ValueError(f"unknown fault effect {self.effect!r}; use one of {sorted(HTTP_FAULTS) + sorted(TRANSPORT_FAULTS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be within [0, 1], got {self.rate}")
        if self.kinds is not None and not isinstance(self.kinds, frozenset):
            object.__setattr__(self, "kinds", frozenset(self.kinds))


@dataclass(frozen=True)
class WorkspaceFaults:
    """Limits and faults of one workspace.

    - ``latency_s`` + uniform ``jitter_s``: added to every answer.
    - ``requests_per_second`` / ``burst``: token bucket over all ``/api/`` calls (``None`` = unlimited).
    - ``questions_per_window`` per ``question_window_s``: Genie's "5 questions per minute per workspace"
      limit on start-conversation and create-message (``None`` = unlimited).
    - ``faults``: injected faults, checked in order; at most one fires per request.
    - ``revoked_space_ids`` (403) and ``deleted_space_ids`` (404), on top of ``Space.deleted``.
    - ``seed``: makes fault draws and jitter repeatable (for a given order of requests).
    - ``rewrite_body``: ``(route kind, path params, body) -> bytes | None``, applied to successful answers:
      the bytes to send instead (a hostile answer to one message or user: wrong JSON types, invalid UTF-8,
      lone surrogates), or ``None`` to send the real one.
    - ``limits_clock``: the monotonic clock (seconds) of the request-rate and question limits (``None`` = the
      real ``time.monotonic``): a test shares a fake one with its client, so a minute's limit is exercised in
      full without waiting a minute. The limits themselves are unchanged.
    """

    latency_s: float = 0.0
    jitter_s: float = 0.0
    requests_per_second: float | None = 20.0
    burst: int | None = None
    questions_per_window: int | None = 5
    question_window_s: float = 60.0
    faults: tuple[Fault, ...] = ()
    revoked_space_ids: frozenset[str] = frozenset()
    deleted_space_ids: frozenset[str] = frozenset()
    seed: int = 0
    rewrite_body: Callable[[str, Mapping[str, str], bytes], bytes | None] | None = None
    limits_clock: Callable[[], float] | None = None

    def __post_init__(self) -> None:
        for name in ("revoked_space_ids", "deleted_space_ids"):
            value = getattr(self, name)
            if not isinstance(value, frozenset):
                object.__setattr__(self, name, frozenset(value))


def _retry_after(wait_s: float) -> int:
    """``Retry-After`` is whole seconds; never advertise 0 (the client would hammer the server)."""
    return max(1, math.ceil(wait_s))


class TokenBucket:
    """Classic token bucket: ``rate`` tokens per second, at most ``capacity`` stored."""

    def __init__(self, rate: float, capacity: int, now: Callable[[], float] = time.monotonic):
        self.rate, self.capacity, self._now = rate, capacity, now
        self._tokens, self._last = float(capacity), now()

    def take(self) -> float:
        """Take one token; returns 0 when admitted, else the seconds until one is available."""
        t = self._now()
        self._tokens = min(self.capacity, self._tokens + (t - self._last) * self.rate)
        self._last = t
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


class SlidingWindow:
    """At most ``limit`` admissions in any ``window_s`` seconds (how "N per minute" limits behave)."""

    def __init__(self, limit: int, window_s: float, now: Callable[[], float] = time.monotonic):
        self.limit, self.window_s, self._now = limit, window_s, now
        self._times: deque[float] = deque()

    def admit(self) -> float:
        t = self._now()
        while self._times and self._times[0] <= t - self.window_s:
            self._times.popleft()
        if len(self._times) < self.limit:
            self._times.append(t)
            return 0.0
        return self._times[0] + self.window_s - t


@dataclass
class Limiter:
    """Run-time state of a :class:`WorkspaceFaults` (rebuilt whenever the faults are replaced)."""

    config: WorkspaceFaults
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        c = self.config
        self._rng = random.Random(c.seed)
        self._jitter_rng = random.Random(c.seed + 1)
        self._fired = [0] * len(c.faults)
        now = c.limits_clock or time.monotonic
        self._bucket = (TokenBucket(c.requests_per_second, c.burst or max(1, math.ceil(c.requests_per_second)), now)
                        if c.requests_per_second else None)
        self._questions = (SlidingWindow(c.questions_per_window, c.question_window_s, now)
                           if c.questions_per_window else None)

    def latency(self) -> float:
        if not self.config.jitter_s:
            return self.config.latency_s
        with self._lock:
            return self.config.latency_s + self._jitter_rng.uniform(0.0, self.config.jitter_s)

    def admit_request(self) -> int:
        """0 when admitted by the request-rate limit, else the ``Retry-After`` seconds to answer."""
        if self._bucket is None:
            return 0
        with self._lock:
            wait = self._bucket.take()
        return _retry_after(wait) if wait else 0

    def admit_question(self) -> int:
        """0 when a new question is admitted, else the ``Retry-After`` seconds to answer."""
        if self._questions is None:
            return 0
        with self._lock:
            wait = self._questions.admit()
        return _retry_after(wait) if wait else 0

    def fired(self) -> dict[str, int]:
        """How many times each fault effect fired since these faults were set (for benchmarks)."""
        out: dict[str, int] = {}
        with self._lock:
            for fault, n in zip(self.config.faults, self._fired, strict=True):
                out[fault.effect] = out.get(fault.effect, 0) + n
        return out

    def draw(self, kind: str) -> Fault | None:
        """The fault that fires for a request of ``kind``, if any (first matching fault wins)."""
        if not self.config.faults:
            return None
        with self._lock:
            for i, fault in enumerate(self.config.faults):
                if fault.kinds is not None and kind not in fault.kinds:
                    continue
                if fault.limit is not None and self._fired[i] >= fault.limit:
                    continue
                if fault.rate >= 1.0 or self._rng.random() < fault.rate:
                    self._fired[i] += 1
                    return fault
        return None
