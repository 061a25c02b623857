"""Plain data objects of a sandbox scenario: what a set of real Databricks workspaces would hold.

The scenario is the single source of truth for the simulated workspace (Genie API content) and the
local system tables (audit log, query history). Tests compare computed tables with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

FINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "QUERY_RESULT_EXPIRED"})
# The order a message moves through while Genie works on it (MessageStatus enum of the SDK).
PROGRESS_STATUSES = ("SUBMITTED", "FETCHING_METADATA", "FILTERING_CONTEXT", "ASKING_AI", "PENDING_WAREHOUSE", "EXECUTING_QUERY")


def ms(ts: dt.datetime) -> int:
    """Epoch milliseconds, the unit of Genie message timestamps."""
    return int(ts.timestamp() * 1000)


@dataclass(frozen=True)
class Workspace:
    workspace_id: str
    name: str
    url: str
    account_id: str


@dataclass(frozen=True)
class User:
    user_id: int
    email: str
    display_name: str


@dataclass
class Space:
    workspace_id: str
    space_id: str
    title: str
    description: str
    warehouse_id: str
    domain: str
    serialized_space: dict[str, Any]
    create_time: dt.datetime
    update_time: dt.datetime
    owner_user_id: int
    deleted: bool = False


@dataclass
class Conversation:
    workspace_id: str
    space_id: str
    conversation_id: str
    user_id: int
    title: str
    created_at: dt.datetime


@dataclass
class Message:
    workspace_id: str
    space_id: str
    conversation_id: str
    message_id: str
    user_id: int
    content: str
    channel: str  # "UI" or "API"
    created_at: dt.datetime
    final_at: dt.datetime
    final_status: str
    sql: str | None = None
    sql_description: str | None = None
    statement_id: str | None = None
    row_count: int | None = None
    answer_text: str | None = None
    suggested_questions: list[str] = field(default_factory=list)
    error_type: str | None = None
    error_message: str | None = None
    feedback_rating: str | None = None  # POSITIVE / NEGATIVE
    feedback_at: dt.datetime | None = None
    review_requested_at: dt.datetime | None = None
    polled: bool = True  # the asker's client polled the message (API fire-and-forget clients do not)
    attachment_ids: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.workspace_id, self.message_id)

    def status_at(self, when: dt.datetime) -> str:
        """Status the Genie API reports at ``when``: progress statuses, then the final one."""
        if when >= self.final_at:
            return self.final_status
        steps, step = self._progress_step(when)
        return steps[step]

    def status_since(self, when: dt.datetime) -> dt.datetime:
        """When the status reported at ``when`` was entered (the message's ``last_updated_timestamp``)."""
        if when >= self.final_at:
            return self.final_at
        steps, step = self._progress_step(when)
        return self.created_at + (self.final_at - self.created_at) * step / len(steps)

    def _progress_step(self, when: dt.datetime) -> tuple[tuple[str, ...], int]:
        """Progress statuses of this message and the index of the one current at ``when`` (before final)."""
        span = (self.final_at - self.created_at).total_seconds() or 1.0
        done = max(0.0, (when - self.created_at).total_seconds()) / span
        steps = PROGRESS_STATUSES if self.sql else PROGRESS_STATUSES[:4]
        return steps, min(len(steps) - 1, int(done * len(steps)))

    @property
    def query_attachment_id(self) -> str | None:
        """Id of the query attachment, when Genie wrote SQL.

        Completed messages list it first in ``attachment_ids``; failed ones carry no generated ids, so a
        stable one is derived from the message id (32 lowercase hex, like every Genie id).
        """
        if not self.sql:
            return None
        if self.attachment_ids and self.final_status == "COMPLETED":
            return self.attachment_ids[0]
        return hashlib.sha256(f"{self.message_id}:query".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ExpectedMessage:
    """Ground truth of one row of ``genie_messages_to_fetch``."""

    workspace_id: str
    message_id: str
    space_id: str
    conversation_id: str
    asker_email: str
    first_seen_date: dt.date


@dataclass
class Scenario:
    seed: int
    start_date: dt.date
    days: int
    ingestion_principal: str
    workspaces: list[Workspace]
    users: list[User]
    spaces: list[Space]
    conversations: list[Conversation]
    messages: list[Message]
    audit_events: list[dict[str, Any]]  # rows of system.access.audit plus a private `_delivered_at`
    query_history: list[dict[str, Any]]  # rows of system.query.history
    workspaces_latest: list[dict[str, Any]]
    # Times at which a person's audited action carried a message's id (filled by the generator).
    person_touches: dict[tuple[str, str], list[dt.datetime]] = field(default_factory=dict)
    # Who asked through the API without being a scenario user (a test-asker service principal): user id -> identity.
    api_askers: dict[int, str] = field(default_factory=dict)

    @property
    def end(self) -> dt.datetime:
        """The scenario's 'now': midnight UTC after its last day."""
        return dt.datetime.combine(self.start_date + dt.timedelta(days=self.days), dt.time(), dt.timezone.utc)

    def user(self, user_id: int) -> User:
        return next(u for u in self.users if u.user_id == user_id)

    def expected_messages_to_fetch(self, workspace_ids: list[str] | None = None) -> dict[tuple[str, str], ExpectedMessage]:
        """What ``genie_messages_to_fetch`` must hold once every audit row is delivered.

        Derived from the generator's record of who did what, not by re-reading audit rows: a message is
        discoverable when a person (never the ingestion principal) read, rated or commented on it; its asker
        is the person who asked it; its date is the first day a person touched it.
        """
        emails = {**self.api_askers, **{u.user_id: u.email for u in self.users}}
        out: dict[tuple[str, str], ExpectedMessage] = {}
        for m in self.messages:
            if workspace_ids is not None and m.workspace_id not in workspace_ids:
                continue
            seen = self.person_touches.get(m.key)
            if not seen:
                continue
            out[m.key] = ExpectedMessage(
                workspace_id=m.workspace_id,
                message_id=m.message_id,
                space_id=m.space_id,
                conversation_id=m.conversation_id,
                asker_email=emails[m.user_id],
                first_seen_date=min(seen).date(),
            )
        return out
