"""Configuration of the simulated Databricks workspaces: who may log in, clocks, delays, faults.

Everything is a frozen dataclass so a test states the whole set-up in one expression and the server
never sees a half-changed configuration (faults can be swapped at run time as a whole object).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..model import User
from .faults import WorkspaceFaults
from .sql_types import SqlWarehouseConfig

DEFAULT_SECRET = "sandbox-secret"  # a sandbox credential, not a real secret


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _numeric_id(text: str) -> int:
    """A stable 16-digit id (the shape of Databricks user ids) for a principal that is not a scenario user."""
    return 10**15 + int(hashlib.sha256(text.encode()).hexdigest(), 16) % (9 * 10**15)


@dataclass(frozen=True)
class Principal:
    """Someone who can obtain an OAuth token with client credentials.

    ``identity`` is what the audit log shows as ``user_identity.email`` (an application id for a service
    principal, an e-mail address for a person). ``can_manage`` stands for CAN MANAGE / CAN EDIT on every
    space: needed to list all users' conversations, read others' messages and get ``serialized_space``.
    """

    client_id: str
    client_secret: str = field(repr=False)
    identity: str
    user_id: int
    display_name: str = ""
    can_manage: bool = True
    person: bool = False  # a person's audited reads make messages discoverable; a service's never do

    @classmethod
    def service_principal(cls, application_id: str, secret: str = DEFAULT_SECRET) -> Principal:
        return cls(application_id, secret, application_id, _numeric_id(application_id), "genie-obs ingestion", True)

    @classmethod
    def test_asker(cls, application_id: str, secret: str) -> Principal:
        """A service principal of its own for test questions (``genie-obs generate-conversations``): it may use the
        spaces, not manage them, and its audited actions make messages discoverable, as any principal's but the
        ingestion principal's do."""
        return cls(application_id, secret, application_id, _numeric_id(application_id), "genie-obs test asker",
                   can_manage=False, person=True)

    @classmethod
    def for_user(cls, user: User, secret: str = DEFAULT_SECRET, *, can_manage: bool = False) -> Principal:
        """A person of the scenario (client id ``user-<id>``), e.g. to ask questions as that user."""
        return cls(f"user-{user.user_id}", secret, user.email, user.user_id, user.display_name, can_manage, person=True)

    def as_user(self) -> User:
        return User(self.user_id, self.identity, self.display_name or self.identity)


@dataclass(frozen=True)
class SimConfig:
    """How the simulated workspaces behave.

    - ``ports``: port per workspace id (missing or 0 = ephemeral); ``host`` is the loopback address bound.
    - ``client_id`` / ``client_secret``: the ingestion service principal's credentials (client id defaults
      to ``scenario.ingestion_principal``); ``principals`` adds more (e.g. :meth:`Principal.for_user`).
    - ``token_ttl_s``: lifetime of issued access tokens (``expires_in``), measured on the real clock
      because clients compute expiry from their own real clock.
    - ``clock``: the server's notion of "now" for message progress, audit times and new objects.
    - ``answer_delay_s``: how long a question asked through the API takes to reach its final status.
    - ``answer_status``: optional hook ``content -> final status`` (COMPLETED / FAILED / CANCELLED) for
      questions asked through the API; ``None`` (or a hook returning ``None``) uses the generator's odds.
    - ``audit_delay_s``: delivery lag of audit rows the server emits (``_delivered_at - event_time``).
    - ``faults`` / ``workspace_faults``: limits and fault injection, default and per workspace id.
    - ``sql``: the SQL warehouse shared by every workspace (Statement Execution API, grants, latency).
    - ``data_dir``: where the warehouse keeps its DuckDB file and the volumes' files (kept after stop);
      ``None`` = a temporary folder removed on stop.
    """

    host: str = "127.0.0.1"
    ports: Mapping[str, int] = field(default_factory=dict)
    client_id: str | None = None
    client_secret: str = field(default=DEFAULT_SECRET, repr=False)
    principals: tuple[Principal, ...] = ()
    token_ttl_s: int = 3600
    clock: Callable[[], dt.datetime] = utc_now
    answer_delay_s: float = 10.0
    answer_status: Callable[[str], str | None] | None = None
    audit_delay_s: float = 60.0
    faults: WorkspaceFaults = field(default_factory=WorkspaceFaults)
    workspace_faults: Mapping[str, WorkspaceFaults] = field(default_factory=dict)
    sql: SqlWarehouseConfig = field(default_factory=SqlWarehouseConfig)
    data_dir: Path | None = None

    def faults_for(self, workspace_id: str) -> WorkspaceFaults:
        return self.workspace_faults.get(workspace_id, self.faults)
