"""Fetch many messages from one workspace concurrently, in bounded batches.

Memory does not grow with the number of messages: refs are consumed lazily, at most ``batch_size`` results
are held before ``on_batch`` writes them, and at most ``concurrency`` requests are in flight.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .client import GenieClient
from .errors import GenieApiError
from .rows import FINAL, FetchOutcome, MessageRef, shape

log = logging.getLogger(__name__)


@dataclass
class FetchSummary:
    fetched: int = 0
    final: int = 0
    pending: int = 0
    failed: int = 0
    failed_by_type: Counter[str] = field(default_factory=Counter)
    asker_overrides: int = 0
    seconds: float = 0.0

    @property
    def attempted(self) -> int:
        return self.fetched + self.failed

    def add(self, o: FetchOutcome) -> None:
        if o.error is not None:
            self.failed += 1
            self.failed_by_type[o.error.error_type] += 1
            return
        self.fetched += 1
        if str((o.message or {}).get("status")) in FINAL:
            self.final += 1
        else:
            self.pending += 1


def fetch_one(client: GenieClient, ref: MessageRef) -> FetchOutcome:
    """One message, with its asker, shaped into its ``message_details`` row; every failure, including an
    answer that cannot be stored, is the outcome's classified error (never an exception)."""
    now = dt.datetime.now(dt.timezone.utc)
    try:
        message = client.get_message(ref.space_id, ref.conversation_id, ref.message_id)
        user_id = message.get("user_id")  # checked by get_message: an integer (or its decimal string)
        user = client.get_user(int(user_id)) if user_id else None
        return shape(FetchOutcome(ref, now, 1, message=message, user=user))
    except GenieApiError as exc:
        return FetchOutcome(ref, now, 1, error=exc)


def fetch_messages(
    client: GenieClient,
    refs: Iterable[MessageRef],
    on_batch: Callable[[list[FetchOutcome]], None],
    batch_size: int = 500,
    progress: Callable[[str], None] | None = None,
    total: int | None = None,
) -> FetchSummary:
    summary = FetchSummary()
    started = time.monotonic()
    it = iter(refs)
    with ThreadPoolExecutor(max_workers=client.settings.concurrency, thread_name_prefix=f"genie-{client.workspace_id}") as pool:
        while batch := list(itertools.islice(it, batch_size)):
            outcomes = list(pool.map(lambda r: fetch_one(client, r), batch))
            on_batch(outcomes)  # written before the next batch is fetched: a crash loses at most one batch of work
            for o in outcomes:
                summary.add(o)
            if progress:
                elapsed = time.monotonic() - started
                of = f"/{total}" if total is not None else ""
                progress(f"workspace {client.workspace_id}: {summary.attempted}{of} messages, {summary.failed} failed, "
                         f"{summary.attempted / elapsed if elapsed else 0:.1f} msg/s, {client.stats.throttled} x 429")
    summary.seconds = time.monotonic() - started
    return summary
