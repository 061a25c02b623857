"""Fetch many messages from one workspace concurrently, in bounded batches.

Memory does not grow with the number of messages: refs are consumed lazily, at most ``batch_size`` results
are held before ``on_batch`` writes them, and at most ``concurrency`` requests are in flight.

Where several messages of one conversation are pending in a batch, one conversation-messages listing
(``GET .../conversations/{id}/messages``, paged) answers them all instead of one GET each; every listed item
the batch asked for is checked and shaped on its own, exactly like a GET answer (a malformed item is that
message's ``MALFORMED_RESPONSE``), and a pending message the listing does not show (hidden, deleted, or on
pages not worth reading) falls back to its own GET, whose answer (a 404 included) is the truth. A listing
that fails falls back to the GETs of all its messages.
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
from typing import Any

from .client import HEX32, GenieClient, message_body_problem
from .errors import MALFORMED_RESPONSE, GenieApiError
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
    listings: int = 0          # conversations answered by a listing (instead of one GET per message)
    listed: int = 0            # messages whose answer came from a listing (the others: their own GET)


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


def _outcome(client: GenieClient, ref: MessageRef, now: dt.datetime, message: dict[str, Any]) -> FetchOutcome:
    """A checked message body with its asker, shaped into its ``message_details`` row (or its error)."""
    try:
        user_id = message.get("user_id")  # checked: an integer (or its decimal string)
        user = client.get_user(int(user_id)) if user_id else None
    except GenieApiError as exc:
        return FetchOutcome(ref, now, 1, error=exc)
    return shape(FetchOutcome(ref, now, 1, message=message, user=user))


def fetch_one(client: GenieClient, ref: MessageRef) -> FetchOutcome:
    """One message, with its asker, shaped into its ``message_details`` row; every failure, including an
    answer that cannot be stored, is the outcome's classified error (never an exception)."""
    now = dt.datetime.now(dt.timezone.utc)
    try:
        message = client.get_message(ref.space_id, ref.conversation_id, ref.message_id)
    except GenieApiError as exc:
        return FetchOutcome(ref, now, 1, error=exc)
    return _outcome(client, ref, now, message)


@dataclass
class ConversationFetch:
    """What fetching the pending messages of one conversation did: one outcome per ref, in order."""

    outcomes: list[FetchOutcome]
    listed: int = 0   # outcomes answered by the listing
    pages: int = 0    # listing requests that answered


def fetch_conversation(client: GenieClient, refs: list[MessageRef], page_size: int = 100) -> ConversationFetch:
    """The pending messages ``refs`` of one conversation: one paged listing, then a GET for each one missing.

    Paging stops as soon as every ref was seen, and after ``len(refs) - 1`` pages (more would cost more than the
    GETs it saves). Items are matched by ``message_id`` (first occurrence wins, items of other ids are dropped
    at once), then checked like :meth:`GenieClient.get_message` checks a GET answer."""
    now = dt.datetime.now(dt.timezone.utc)
    wanted = {r.message_id for r in refs}
    found: dict[str, Any] = {}
    pages = 0
    try:
        for items in client.conversation_message_pages(refs[0].space_id, refs[0].conversation_id, page_size):
            pages += 1
            for item in items:
                mid = (item.get("message_id") or item.get("id")) if isinstance(item, dict) else None
                if isinstance(mid, str) and mid in wanted and mid not in found:
                    found[mid] = item
            if len(found) == len(wanted) or pages >= max(1, len(wanted) - 1):
                break
    except GenieApiError as exc:  # what the listing could not answer, each message's own GET will
        if exc.error_code in NO_LISTING:  # this workspace has no such endpoint: stop asking it
            client.listing_available = False
        log.debug("workspace %s: listing conversation %s failed after %d page(s): %s",
                  client.workspace_id, refs[0].conversation_id, pages, exc)
    outcomes = []
    for ref in refs:
        item = found.get(ref.message_id)
        if item is None:
            outcomes.append(fetch_one(client, ref))
            continue
        problem = message_body_problem(item, ref.message_id)
        if problem is not None:
            outcomes.append(FetchOutcome(ref, now, 1, error=GenieApiError(MALFORMED_RESPONSE, f"message body {problem}", 200)))
        else:
            outcomes.append(_outcome(client, ref, now, item))
    return ConversationFetch(outcomes, sum(r.message_id in found for r in refs), pages)


NO_LISTING = frozenset({"ENDPOINT_NOT_FOUND", "FEATURE_DISABLED", "NOT_IMPLEMENTED"})


def _listable(ref: MessageRef) -> bool:
    return isinstance(ref.space_id, str) and isinstance(ref.conversation_id, str) and bool(
        HEX32.match(ref.space_id) and HEX32.match(ref.conversation_id))


def group_by_conversation(batch: list[MessageRef]) -> list[list[int]]:
    """Positions of ``batch`` grouped by (space, conversation), in order of first appearance; refs whose ids
    could not reach a URL stay alone (their GET reports why)."""
    groups: dict[tuple[str, str] | int, list[int]] = {}
    for i, ref in enumerate(batch):
        key: tuple[str, str] | int = (ref.space_id, ref.conversation_id) if _listable(ref) else i
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def fetch_messages(
    client: GenieClient,
    refs: Iterable[MessageRef],
    on_batch: Callable[[list[FetchOutcome]], None],
    batch_size: int = 500,
    progress: Callable[[str], None] | None = None,
    total: int | None = None,
    by_conversation: bool = True,
) -> FetchSummary:
    """Fetch ``refs`` batch by batch. Within each batch (a bounded window of the stream, which
    ``messages_pending_fetch`` orders by conversation), a conversation with two or more pending messages is
    answered by :func:`fetch_conversation`, any other message by :func:`fetch_one` (``by_conversation=False``:
    every message by its own GET). Each batch is written by ``on_batch`` before the next is fetched."""
    summary = FetchSummary()
    started = time.monotonic()
    it = iter(refs)

    def task(batch: list[MessageRef], positions: list[int]) -> ConversationFetch:
        if len(positions) == 1 or not by_conversation or not client.listing_available:
            return ConversationFetch([fetch_one(client, batch[i]) for i in positions])
        return fetch_conversation(client, [batch[i] for i in positions])

    with ThreadPoolExecutor(max_workers=client.settings.concurrency, thread_name_prefix=f"genie-{client.workspace_id}") as pool:
        while batch := list(itertools.islice(it, batch_size)):
            groups = group_by_conversation(batch) if by_conversation else [[i] for i in range(len(batch))]
            slots: list[FetchOutcome | None] = [None] * len(batch)
            for positions, done in zip(groups, pool.map(lambda g, b=batch: task(b, g), groups), strict=True):
                for i, o in zip(positions, done.outcomes, strict=True):
                    slots[i] = o
                if done.pages:
                    summary.listings += 1
                    summary.listed += done.listed
            outcomes = [o for o in slots if o is not None]
            assert len(outcomes) == len(batch)  # one outcome per ref: nothing lost, nothing doubled
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
