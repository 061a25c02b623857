"""A per-workspace request budget: a token bucket shared by every thread calling that workspace.

The bucket keeps us under the workspace's API limit before the server has to say 429; when it does say
429 with ``Retry-After``, :meth:`RequestBudget.pause` holds back every caller of the workspace, not just
the one thread that was told.

A new budget starts with one token, not a full bucket: the client cannot know how much of the server's
bucket is left (the run before ours may have just spent it at the same rate), so its first second sends at
most ``1 + rate`` requests, evenly spaced, which a server allowing ``rate`` per second with any burst admits.
Tokens accrue from the first request on (not while the run set itself up before it), and the bucket fills up
to ``burst`` (default: one second's worth) only while we are idle after that, like the server's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RequestBudget:
    def __init__(self, rate_per_s: float, burst: int | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, initial: float = 1.0):
        if rate_per_s <= 0:
            raise ValueError(f"rate_per_s must be > 0, got {rate_per_s!r}")
        self.rate = float(rate_per_s)
        self.capacity = float(burst if burst is not None else max(1, int(rate_per_s)))
        self._tokens = min(self.capacity, max(0.0, float(initial)))  # no start-up burst (see the module docstring)
        self._clock, self._sleep = clock, sleep
        self._last: float | None = None  # set by the first acquire: no tokens accrue before it
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.waited_s = 0.0

    def pause(self, seconds: float) -> None:
        """The server asked us to wait: nobody on this workspace sends before then."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self._tokens = 0.0
            self._last = self._paused_until  # no tokens accrue while paused

    def acquire(self) -> None:
        """Block until one request may be sent."""
        while True:
            with self._lock:
                now = self._clock()
                if now < self._paused_until:
                    wait = self._paused_until - now
                else:
                    if self._last is not None:
                        self._tokens = min(self.capacity, self._tokens + max(0.0, now - self._last) * self.rate)
                    self._last = now
                    if self._tokens >= 1.0 - 1e-9:  # tolerate float dust, or a sleep of 1e-17 s never ends
                        self._tokens = max(0.0, self._tokens - 1.0)
                        return
                    wait = (1.0 - self._tokens) / self.rate
            self.waited_s += wait
            self._sleep(wait)
