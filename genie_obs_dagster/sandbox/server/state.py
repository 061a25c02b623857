"""What one simulated workspace holds, and the side effects API calls have on it.

The scenario stays the single source of truth: the state indexes the scenario's objects of one workspace
and appends whatever the API creates (spaces, conversations, messages, audit rows, query-history rows)
to the scenario's own lists, so tests and the local system tables see one consistent world.
Answers, ids and audit rows come from the scenario generator's own helpers (a private ``_Builder`` seeded
per workspace) so that API-made objects look exactly like generated ones.

Not thread-safe by itself: the caller holds :attr:`lock` (shared by all workspaces of a scenario, whose
lists they share) around each request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import Any

from ..content import DOMAINS, Domain, Question
from ..model import FINAL_STATUSES, Conversation, Message, Scenario, Space, User, Workspace
from ..scenario import API_AGENT, ScenarioParams, _audit_row, _Builder, final_status_for
from .config import Principal
from .protocol import invalid

_NO_DOMAIN = Domain(name="custom", title="", tables=(), columns={}, questions=(), instruction="", joins=())
ANSWER_STATUSES = frozenset(FINAL_STATUSES - {"QUERY_RESULT_EXPIRED"})


def parse_serialized_space(raw: Any) -> dict[str, Any]:
    """``serialized_space`` must be a JSON string holding an object with a ``version`` (1 or 2)."""
    if not isinstance(raw, str):
        raise invalid("serialized_space must be a JSON string")
    try:
        value = json.loads(raw)
    except ValueError:
        raise invalid("serialized_space is not valid JSON") from None
    if not isinstance(value, dict) or value.get("version") not in (1, 2):
        raise invalid("serialized_space must be a JSON object with version 1 or 2")
    return value


class WorkspaceState:
    def __init__(self, scenario: Scenario, workspace: Workspace, *, seed: int, lock: threading.RLock,
                 principals: list[Principal], audit_delay_s: float, answer_delay_s: float,
                 answer_status: Callable[[str], str | None] | None):
        self.scenario = scenario
        self.workspace = workspace
        self.lock = lock
        self.audit_delay = dt.timedelta(seconds=audit_delay_s)
        self.answer_delay = dt.timedelta(seconds=answer_delay_s)
        self.answer_status = answer_status
        # The generator's own id/answer/audit helpers, on a seed of this workspace's own.
        self._gen = _Builder(dataclasses.replace(ScenarioParams(), seed=seed))
        wid = workspace.workspace_id
        self.spaces = {s.space_id: s for s in scenario.spaces if s.workspace_id == wid}
        self.conversations = {c.conversation_id: c for c in scenario.conversations if c.workspace_id == wid}
        self.messages = {m.message_id: m for m in scenario.messages if m.workspace_id == wid}
        self.conversations_by_space: dict[str, list[Conversation]] = {}
        for c in self.conversations.values():
            self.conversations_by_space.setdefault(c.space_id, []).append(c)
        self.messages_by_conversation: dict[str, list[Message]] = {}
        for m in self.messages.values():
            self.messages_by_conversation.setdefault(m.conversation_id, []).append(m)
        self.users = {u.user_id: u for u in scenario.users}
        self.identities = {u.user_id: u.email for u in scenario.users} | {p.user_id: p.identity for p in principals}
        self.emitted: list[dict[str, Any]] = []

    # -- lookups -----------------------------------------------------------------------------------
    def email_of(self, user_id: int) -> str:
        return self.identities.get(user_id, str(user_id))

    def domain_of(self, space: Space) -> Domain:
        """The space's question vocabulary; spaces made through the API are matched by their tables."""
        by_name = {d.name: d for d in DOMAINS}
        if space.domain in by_name:
            return by_name[space.domain]
        tables = {t.get("identifier") for t in space.serialized_space.get("data_sources", {}).get("tables", [])}
        return next((d for d in DOMAINS if tables & set(d.tables)), _NO_DOMAIN)

    def conversation_updated(self, conv: Conversation) -> dt.datetime:
        msgs = self.messages_by_conversation.get(conv.conversation_id)
        return max(m.created_at for m in msgs) if msgs else conv.created_at

    # -- questions ---------------------------------------------------------------------------------
    def ask(self, space: Space, asker: User, content: str, now: dt.datetime,
            conversation: Conversation | None = None) -> tuple[Conversation, Message]:
        """A question asked through the API: a new message (and conversation), answered after a delay."""
        gen, wid = self._gen, self.workspace.workspace_id
        self.scenario.api_askers.setdefault(asker.user_id, asker.email)
        if conversation is None:
            conversation = Conversation(wid, space.space_id, gen.ids.hex32(), asker.user_id, content, now)
            self.scenario.conversations.append(conversation)
            self.conversations[conversation.conversation_id] = conversation
            self.conversations_by_space.setdefault(space.space_id, []).append(conversation)
        m = Message(wid, space.space_id, conversation.conversation_id, gen.ids.hex32(), asker.user_id, content,
                    "API", now, now, "SUBMITTED")
        domain = self.domain_of(space)
        question = next((q for q in domain.questions if q.text == content), None) or Question(content, None, "")
        status = (self.answer_status(content) if self.answer_status else None) or final_status_for(gen.rng.random())
        if status not in ANSWER_STATUSES:
            raise ValueError(f"answer_status returned {status!r}; use one of {sorted(ANSWER_STATUSES)}")
        gen.settle(m, question, domain, status)
        m.final_at = now + self.answer_delay
        self.scenario.messages.append(m)
        self.messages[m.message_id] = m
        self.messages_by_conversation.setdefault(m.conversation_id, []).append(m)
        gen.query_history(m, asker, space, self.workspace)
        self.scenario.query_history.extend(gen.history)
        gen.history.clear()
        return conversation, m

    def rate(self, m: Message, rating: str, now: dt.datetime) -> None:
        m.feedback_rating = None if rating == "NONE" else rating
        m.feedback_at = now

    # -- spaces ------------------------------------------------------------------------------------
    def create_space(self, owner: Principal, body: dict[str, Any], now: dt.datetime) -> Space:
        warehouse_id = body.get("warehouse_id")
        if not isinstance(warehouse_id, str) or not warehouse_id:
            raise invalid("warehouse_id is required")
        if "serialized_space" not in body:
            raise invalid("serialized_space is required")
        serialized = parse_serialized_space(body["serialized_space"])
        space = Space(
            workspace_id=self.workspace.workspace_id, space_id=self._gen.ids.hex32(),
            title=str(body.get("title") or "New Genie space"), description=str(body.get("description") or ""),
            warehouse_id=warehouse_id, domain="", serialized_space=serialized, create_time=now, update_time=now,
            owner_user_id=owner.user_id,
        )
        space.domain = self.domain_of(space).name
        self.scenario.spaces.append(space)
        self.spaces[space.space_id] = space
        return space

    def update_space(self, space: Space, body: dict[str, Any], now: dt.datetime) -> None:
        """PATCH semantics: only given fields change; ``serialized_space`` is a full replacement."""
        serialized = parse_serialized_space(body["serialized_space"]) if "serialized_space" in body else None
        for name in ("title", "description", "warehouse_id"):
            if name in body and body[name] is not None:
                setattr(space, name, str(body[name]))
        if serialized is not None:
            space.serialized_space = serialized
        space.update_time = max(now, space.update_time + dt.timedelta(milliseconds=1))

    # -- audit -------------------------------------------------------------------------------------
    def emit_audit(self, *, action: str, caller: Principal, params: dict[str, str], status: int, error: str | None,
                   user_agent: str | None, client_ip: str, now: dt.datetime) -> dict[str, Any]:
        """The ``aibiGenie`` row a real workspace writes for this call (same shape as generated rows)."""
        row = _audit_row(ids=self._gen.ids, workspace_id=self.workspace.workspace_id, when=now, action=action,
                         email=caller.identity, params=dict(params), status=status, error=error,
                         agent=user_agent or API_AGENT, delay=self.audit_delay)
        row["source_ip_address"] = client_ip
        self.scenario.audit_events.append(row)
        self.emitted.append(row)
        mid = params.get("message_id")
        if status == 200 and mid in self.messages and caller.person:
            # A person's audited action carrying the message id makes it discoverable (ground truth).
            self.scenario.person_touches.setdefault((self.workspace.workspace_id, mid), []).append(now)
        return row
