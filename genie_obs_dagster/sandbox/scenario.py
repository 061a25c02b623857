"""Deterministic (seeded) generator of a Genie sandbox: workspaces, spaces, users, conversations,
messages, and the audit-log and query-history rows real workspaces would emit for them.

It models what real logs look like, not what would be convenient:
- ask events (``createConversationMessage``, ``genieStartConversationMessage``,
  ``genieCreateConversationMessage``) carry space and conversation ids, never the new message id;
- the asker's client then polls the message (``getConversationMessage`` / ``genieGetConversationMessage``,
  all three ids); a few API clients never poll, so the audit log cannot see those messages;
- other people read messages days later; the ingestion principal can read every message afterwards;
- some asks are throttled (429) and create nothing; feedback, review requests and space views are audited;
- audit rows are delivered late (minutes usually, days sometimes): each row has a private
  ``_delivered_at`` that the local system tables honour;
- other services and an unobserved workspace add noise to ``system.access.audit``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

from .content import DOMAINS, FAILURE_TYPES, FIRST_NAMES, LAST_NAMES, Domain, Question
from .model import Conversation, Message, Scenario, Space, User, Workspace

UTC = dt.timezone.utc
ACCOUNT_ID = "7f3c2a1e-5b4d-4c3b-9a8f-0e1d2c3b4a59"
NOISE_WORKSPACE_ID = "9999999999999999"

UI_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0 Safari/537.36"
API_AGENT = "databricks-sdk-py/0.60.0 python/3.11.7 os/linux auth/oauth-m2m"


@dataclass(frozen=True)
class ScenarioParams:
    seed: int = 7
    start_date: dt.date = dt.date(2026, 1, 1)
    days: int = 14
    workspace_ids: tuple[str, ...] = ("1234567890123456", "2345678901234567")
    workspace_urls: tuple[str, ...] | None = None
    spaces_per_workspace: int = 4
    users: int = 16
    questions_per_day: int = 30  # per workspace
    ingestion_principal: str = "5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f"
    principal_reads_all: bool = False  # the ingestion principal read every message afterwards
    late_fraction: float = 0.05  # audit rows delivered 1-3 days late
    unpolled_api_fraction: float = 0.04  # API messages whose client never polled
    throttled_ask_fraction: float = 0.02  # asks answered 429, creating no message


def final_status_for(r: float) -> str:
    """A question's final status for a uniform draw ``r``: 4 % cancelled, 9 % failed, the rest completed."""
    if r < 0.04:
        return "CANCELLED"
    return "FAILED" if r < 0.13 else "COMPLETED"


class _Ids:
    """Deterministic ids in the formats Databricks uses."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def hex32(self) -> str:
        # Genie ids are 32 lowercase hex, commonly starting with 01f0/01f1 (time-ordered).
        return "01f1" + f"{self.rng.getrandbits(112):028x}"

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def user_id(self) -> int:
        return self.rng.randrange(10**15, 10**16)

    def warehouse(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"


def _audit_row(
    *,
    ids: _Ids,
    workspace_id: str,
    when: dt.datetime,
    action: str,
    email: str,
    params: dict[str, str],
    status: int = 200,
    error: str | None = None,
    agent: str = UI_AGENT,
    service: str = "aibiGenie",
    delay: dt.timedelta,
) -> dict[str, Any]:
    return {
        "account_id": ACCOUNT_ID,
        "workspace_id": workspace_id,
        "version": "2.0",
        "event_time": when,
        "event_date": when.date(),
        "source_ip_address": f"10.{ids.rng.randrange(256)}.{ids.rng.randrange(256)}.{ids.rng.randrange(1, 255)}",
        "user_agent": agent,
        "session_id": None,
        "user_identity": {"email": email, "subject_name": None},
        "service_name": service,
        "action_name": action,
        "request_id": ids.uuid(),
        "request_params": params,
        "response": {"status_code": status, "error_message": error, "result": None},
        "audit_level": "WORKSPACE_LEVEL",
        "event_id": f"{ids.rng.getrandbits(128):032x}",
        "identity_metadata": {"run_by": None, "run_as": None, "acting_resource": None},
        "_delivered_at": when + delay,
    }


class _Builder:
    def __init__(self, p: ScenarioParams):
        self.p = p
        self.rng = random.Random(p.seed)
        self.ids = _Ids(self.rng)
        self.start = dt.datetime.combine(p.start_date, dt.time(), UTC)
        self.end = self.start + dt.timedelta(days=p.days)
        self.audit: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []
        self.touches: dict[tuple[str, str], list[dt.datetime]] = {}

    # -- delivery lag of audit rows ------------------------------------------------------------
    def _delay(self, workspace_id: str, when: dt.datetime) -> dt.timedelta:
        """Audit rows are delivered in hourly batches per workspace; a late batch arrives 1-3 days late.

        Drawn from a generator of its own per batch, so lateness never shifts the rest of the scenario.
        """
        batch = random.Random(f"{self.p.seed}:{workspace_id}:{when:%Y-%m-%dT%H}")
        late = batch.random() < self.p.late_fraction
        base = dt.timedelta(days=batch.randint(1, 3), hours=batch.randint(0, 12)) if late else dt.timedelta(minutes=batch.randint(5, 30))
        return base + dt.timedelta(seconds=batch.randint(0, 300))

    def emit(self, workspace_id: str, when: dt.datetime, action: str, email: str, params: dict[str, str], **kw: Any) -> bool:
        """Append an audit row; events after the scenario's 'now' have not happened and are dropped."""
        if when >= self.end:
            return False
        self.audit.append(_audit_row(ids=self.ids, workspace_id=workspace_id, when=when, action=action, email=email,
                                     params=params, delay=self._delay(workspace_id, when), **kw))
        return True

    def emit_touch(self, m: Message, when: dt.datetime, action: str, email: str, params: dict[str, str], **kw: Any) -> None:
        """An audited action by a person that carries the message id (what makes a message discoverable)."""
        if self.emit(m.workspace_id, when, action, email, params, **kw):
            self.touches.setdefault(m.key, []).append(when)

    # -- world -----------------------------------------------------------------------------------
    def users(self) -> list[User]:
        out, seen = [], set()
        while len(out) < self.p.users:
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            email = f"{first}.{last}@example.com"
            if email in seen:
                email = f"{first}.{last}{len(out)}@example.com"
            seen.add(email)
            out.append(User(self.ids.user_id(), email, f"{first.title()} {last.title()}"))
        return out

    def workspaces(self) -> list[Workspace]:
        urls = self.p.workspace_urls or tuple(f"https://sandbox-{i + 1}.cloud.databricks.com" for i in range(len(self.p.workspace_ids)))
        return [Workspace(wid, f"sandbox-{i + 1}", urls[i].rstrip("/"), ACCOUNT_ID) for i, wid in enumerate(self.p.workspace_ids)]

    def serialized_space(self, domain: Domain) -> dict[str, Any]:
        def sid() -> str:
            return self.ids.hex32()

        sample = sorted(({"id": sid(), "question": [q.text]} for q in domain.questions[:3]), key=lambda x: x["id"])
        tables = [
            {
                "identifier": t,
                "description": [f"{t.split('.')[-1].replace('_', ' ')} table"],
                "column_configs": sorted(
                    ({"column_name": c, "enable_format_assistance": True} for c in domain.columns[t]),
                    key=lambda x: x["column_name"],
                ),
            }
            for t in sorted(domain.tables)
        ]
        joins = sorted(
            (
                {"id": sid(), "left": {"identifier": left, "alias": left.split(".")[-1]},
                 "right": {"identifier": right, "alias": right.split(".")[-1]}, "sql": [cond]}
                for left, right, cond in domain.joins
            ),
            key=lambda x: x["id"],
        )
        examples = sorted(
            ({"id": sid(), "question": [q.text], "sql": [q.sql]} for q in domain.questions if q.sql),
            key=lambda x: x["id"],
        )[:2]
        benchmarks = sorted(
            ({"id": sid(), "question": [q.text], "answer": [{"format": "SQL", "content": [q.sql]}]}
             for q in domain.questions if q.sql),
            key=lambda x: x["id"],
        )
        return {
            "version": 2,
            "config": {"sample_questions": sample},
            "data_sources": {"tables": tables},
            "instructions": {
                "text_instructions": [{"id": sid(), "content": [domain.instruction]}],
                "example_question_sqls": examples,
                "join_specs": joins,
            },
            "benchmarks": {"questions": benchmarks},
        }

    def spaces(self, workspaces: list[Workspace], users: list[User]) -> list[Space]:
        out = []
        for ws in workspaces:
            warehouse = self.ids.warehouse()
            for i in range(self.p.spaces_per_workspace):
                domain = DOMAINS[i % len(DOMAINS)]
                created = self.start - dt.timedelta(days=self.rng.randint(10, 200), seconds=self.rng.randint(0, 86399))
                out.append(Space(
                    workspace_id=ws.workspace_id,
                    space_id=self.ids.hex32(),
                    title=f"{domain.title}" + (f" ({i // len(DOMAINS) + 1})" if i >= len(DOMAINS) else ""),
                    description=f"Ask questions about {domain.name} data.",
                    warehouse_id=warehouse,
                    domain=domain.name,
                    serialized_space=self.serialized_space(domain),
                    create_time=created,
                    update_time=created + dt.timedelta(days=self.rng.randint(0, 9)),
                    owner_user_id=self.rng.choice(users).user_id,
                ))
        return out

    # -- activity ----------------------------------------------------------------------------------
    def ask(self, m: Message, email: str, new_conversation: bool) -> None:
        """Audit rows of one question: the ask (no message id), the asker's polls, the query, follow-ups."""
        wid, params = m.workspace_id, {"space_id": m.space_id, "conversation_id": m.conversation_id}
        agent = UI_AGENT if m.channel == "UI" else API_AGENT
        if m.channel == "UI":
            if new_conversation:
                self.emit(wid, m.created_at - dt.timedelta(milliseconds=400), "createConversation", email,
                          {"space_id": m.space_id}, agent=agent)
            ask_action = "createConversationMessage"
        else:
            ask_action = "genieStartConversationMessage" if new_conversation else "genieCreateConversationMessage"
        self.emit(wid, m.created_at, ask_action, email, params, agent=agent)
        if not m.polled:
            return
        read_action = "getConversationMessage" if m.channel == "UI" else "genieGetConversationMessage"
        t = m.created_at + dt.timedelta(milliseconds=self.rng.randint(600, 1500))
        while True:
            self.emit_touch(m, t, read_action, email, {**params, "message_id": m.message_id}, agent=agent)
            if t >= m.final_at:
                break
            t = min(m.final_at, t + dt.timedelta(seconds=self.rng.choice((1, 2, 3))))
        if m.statement_id and m.final_status == "COMPLETED":
            action = "getMessageQueryResult" if m.channel == "UI" else "genieGetMessageAttachmentQueryResult"
            when = t + dt.timedelta(milliseconds=300)
            self.emit_touch(m, when, action, email, {**params, "message_id": m.message_id}, agent=agent)

    def react(self, m: Message, asker: User, readers: list[User]) -> None:
        """Feedback, review requests and later reads by other people."""
        params = {"space_id": m.space_id, "conversation_id": m.conversation_id, "message_id": m.message_id}
        r = self.rng.random()
        if m.final_status in ("COMPLETED", "FAILED") and r < 0.3:
            m.feedback_rating = "POSITIVE" if (m.final_status == "COMPLETED" and self.rng.random() < 0.7) else "NEGATIVE"
            m.feedback_at = m.final_at + dt.timedelta(seconds=self.rng.randint(5, 300))
            self.emit_touch(m, m.feedback_at, "updateConversationMessageFeedback", asker.email,
                            {**params, "feedback_rating": m.feedback_rating})
            if m.feedback_rating == "NEGATIVE" and self.rng.random() < 0.5:
                m.review_requested_at = m.feedback_at + dt.timedelta(seconds=self.rng.randint(5, 120))
                self.emit_touch(m, m.review_requested_at, "createConversationMessageComment", asker.email, params)
        if self.rng.random() < 0.12:  # a space manager reviews the message days later
            reader = self.rng.choice([u for u in readers if u != asker] or readers)
            when = m.final_at + dt.timedelta(days=self.rng.randint(0, 4), hours=self.rng.randint(1, 20))
            self.emit_touch(m, when, "getConversationMessage", reader.email, params)

    def query_history(self, m: Message, asker: User, space: Space, ws: Workspace) -> None:
        if not m.statement_id:
            return
        duration = int(self.rng.lognormvariate(7.0, 0.9))  # ~1.1 s median
        start = m.final_at - dt.timedelta(milliseconds=duration + 50)
        failed = m.final_status == "FAILED"
        self.history.append({
            "account_id": ACCOUNT_ID, "workspace_id": m.workspace_id, "statement_id": m.statement_id,
            "session_id": self.ids.uuid(), "execution_status": "FAILED" if failed else "FINISHED",
            "compute": {"type": "WAREHOUSE", "cluster_id": None, "warehouse_id": space.warehouse_id},
            "executed_by_user_id": str(asker.user_id), "executed_by": asker.email,
            "executed_as_user_id": str(asker.user_id), "executed_as": asker.email,
            "statement_text": m.sql, "statement_type": "SELECT",
            "error_message": m.error_message if failed else None,
            "client_application": "Databricks SQL Genie", "client_driver": None,
            "total_duration_ms": duration + 50, "waiting_for_compute_duration_ms": 0,
            "waiting_at_capacity_duration_ms": 0, "execution_duration_ms": duration,
            "compilation_duration_ms": int(duration * 0.1), "total_task_duration_ms": duration * 2,
            "result_fetch_duration_ms": 20,
            "start_time": start, "end_time": m.final_at, "update_time": m.final_at,
            "read_partitions": 1, "pruned_files": 0, "read_files": self.rng.randint(1, 40),
            "read_rows": 0 if failed else self.rng.randint(100, 5_000_000), "produced_rows": m.row_count or 0,
            "read_bytes": self.rng.randint(10_000, 900_000_000), "spilled_local_bytes": 0, "written_bytes": 0,
            "written_rows": 0, "written_files": 0, "shuffle_read_bytes": 0, "read_io_cache_percent": 0,
            "from_result_cache": False,
            "query_source": {"job_info": None, "legacy_dashboard_id": None, "dashboard_id": None, "alert_id": None,
                             "notebook_id": None, "sql_query_id": None, "genie_space_id": m.space_id,
                             "pipeline_info": None},
        })

    def outcome(self, m: Message, domain: Domain) -> None:
        q = next(q for q in domain.questions if q.text == m.content)
        r = self.rng.random()
        m.final_at = m.created_at + dt.timedelta(seconds=self.rng.randint(4, 40))
        self.settle(m, q, domain, final_status_for(r))

    def settle(self, m: Message, q: Question, domain: Domain, status: str) -> None:
        """Fill in a message's final status and Genie's answer (shared with the simulated server)."""
        m.final_status = status
        if status == "CANCELLED":
            return
        if status == "FAILED":
            m.error_type, m.error_message = self.rng.choice(FAILURE_TYPES)
            if m.error_type == "SQL_EXECUTION_EXCEPTION" and q.sql:
                m.sql, m.statement_id = q.sql, self.ids.uuid()
            return
        m.answer_text = f"Here is what I found for: {q.text}"
        m.suggested_questions = [x.text for x in domain.questions if x.text != q.text][:2]
        if q.sql:
            m.sql, m.sql_description, m.statement_id = q.sql, q.description, self.ids.uuid()
            m.row_count = self.rng.randint(1, 500)
        m.attachment_ids = tuple(self.ids.hex32() for _ in range(3 if q.sql else 2))

    def activity(self, workspaces: list[Workspace], users: list[User], spaces: list[Space]) -> tuple[list[Conversation], list[Message]]:
        conversations: list[Conversation] = []
        messages: list[Message] = []
        domains = {d.name: d for d in DOMAINS}
        for ws in workspaces:
            ws_spaces = [s for s in spaces if s.workspace_id == ws.workspace_id]
            ws_users = users[: max(1, int(len(users) * 0.8))] if ws is workspaces[0] else users[len(users) // 4 :] or users
            open_conv: dict[tuple[str, int], Conversation] = {}
            for day in range(self.p.days):
                day_start = self.start + dt.timedelta(days=day)
                n = max(0, int(self.rng.gauss(self.p.questions_per_day, self.p.questions_per_day * 0.2)))
                times = sorted(day_start + dt.timedelta(seconds=self.rng.randint(6 * 3600, 22 * 3600)) for _ in range(n))
                for when in times:
                    space = self.rng.choice(ws_spaces)
                    asker = self.rng.choice(ws_users)
                    domain = domains[space.domain]
                    self.emit(ws.workspace_id, when - dt.timedelta(seconds=20), "getSpace", asker.email, {"space_id": space.space_id})
                    channel = "API" if self.rng.random() < 0.25 else "UI"
                    if channel == "API" and self.rng.random() < self.p.throttled_ask_fraction:
                        self.emit(ws.workspace_id, when, "genieStartConversationMessage", asker.email,
                                  {"space_id": space.space_id}, status=429, agent=API_AGENT,
                                  error="REQUEST_LIMIT_EXCEEDED: too many questions per minute")
                        continue
                    conv = open_conv.get((space.space_id, asker.user_id))
                    new_conv = conv is None or self.rng.random() < 0.5
                    q = self.rng.choice(domain.questions)
                    if new_conv:
                        conv = Conversation(ws.workspace_id, space.space_id, self.ids.hex32(), asker.user_id, q.text, when)
                        conversations.append(conv)
                        open_conv[(space.space_id, asker.user_id)] = conv
                    assert conv is not None
                    m = Message(ws.workspace_id, space.space_id, conv.conversation_id, self.ids.hex32(), asker.user_id,
                                q.text, channel, when, when, "SUBMITTED")
                    m.polled = not (channel == "API" and self.rng.random() < self.p.unpolled_api_fraction)
                    self.outcome(m, domain)
                    messages.append(m)
                    self.ask(m, asker.email, new_conv)
                    self.react(m, asker, ws_users)
                    self.query_history(m, asker, space, ws)
        return conversations, messages

    def principal_reads(self, messages: list[Message]) -> None:
        """The ingestion principal fetches every message afterwards; its reads are audited too."""
        for m in messages:
            when = m.final_at + dt.timedelta(hours=self.rng.randint(1, 30))
            self.emit(m.workspace_id, when, "genieGetConversationMessage", self.p.ingestion_principal,
                      {"space_id": m.space_id, "conversation_id": m.conversation_id, "message_id": m.message_id},
                      agent=API_AGENT)

    def noise(self, users: list[User]) -> None:
        """Rows the product must ignore: other services, and a workspace nobody configured."""
        for day in range(self.p.days):
            base = self.start + dt.timedelta(days=day, hours=12)
            for ws in self.p.workspace_ids:
                self.emit(ws, base, "runCommand", self.rng.choice(users).email, {"notebook_id": "123"}, service="notebook")
            self.emit(NOISE_WORKSPACE_ID, base, "getConversationMessage", self.rng.choice(users).email,
                      {"space_id": self.ids.hex32(), "conversation_id": self.ids.hex32(), "message_id": self.ids.hex32()})


def generate(params: ScenarioParams | None = None) -> Scenario:
    """Build a scenario; the same params always give the same scenario."""
    p = params or ScenarioParams()
    if p.workspace_urls is not None and len(p.workspace_urls) != len(p.workspace_ids):
        raise ValueError("workspace_urls must have one URL per workspace id")
    b = _Builder(p)
    users = b.users()
    workspaces = b.workspaces()
    spaces = b.spaces(workspaces, users)
    conversations, messages = b.activity(workspaces, users, spaces)
    if p.principal_reads_all:
        b.principal_reads(messages)
    b.noise(users)
    b.audit.sort(key=lambda r: (r["event_time"], r["event_id"]))
    latest = [
        {"account_id": ACCOUNT_ID, "workspace_id": ws.workspace_id, "workspace_name": ws.name,
         "workspace_url": ws.url + "/", "create_time": dt.datetime(2024, 1, 1, tzinfo=UTC), "status": "RUNNING"}
        for ws in workspaces
    ] + [{"account_id": ACCOUNT_ID, "workspace_id": NOISE_WORKSPACE_ID, "workspace_name": "not-observed",
          "workspace_url": "https://not-observed.cloud.databricks.com/", "create_time": dt.datetime(2024, 1, 1, tzinfo=UTC),
          "status": "RUNNING"}]
    scenario = Scenario(
        seed=p.seed, start_date=p.start_date, days=p.days, ingestion_principal=p.ingestion_principal,
        workspaces=workspaces, users=users, spaces=spaces, conversations=conversations, messages=messages,
        audit_events=b.audit, query_history=b.history, workspaces_latest=latest,
        person_touches=b.touches,
    )
    return scenario


def serialized_space_json(space: Space) -> str:
    """``serialized_space`` as the API returns it: a JSON string."""
    return json.dumps(space.serialized_space, separators=(",", ":"))
