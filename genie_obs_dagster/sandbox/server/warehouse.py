"""The simulated SQL warehouse behind every workspace: one engine, one volume store, the statements.

Unity Catalog and the system tables are account-wide, so all simulated workspaces share one
:class:`Warehouse`. It runs each statement on a thread of its own, through PENDING and RUNNING
(``SqlWarehouseConfig.latency_s``) to SUCCEEDED / FAILED / CANCELED, never under the scenario lock the
Genie handlers share: a statement may take seconds and HTTP callers wait on it (``wait_timeout``).
State changes are announced on one condition so waiters wake as soon as their statement ends.

The engine and the volume store are built on first use, so Genie-only tests never open a database.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import shutil
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from . import sql_format
from .sql_format import ResultSet
from .sql_types import Parameters, SqlFailure, SqlWarehouseConfig, StatementResult
from .volumes import VolumeStore

logger = logging.getLogger(__name__)
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "CLOSED"})
DATABASE_FILE = "warehouse.duckdb"


class Engine(Protocol):
    """What the warehouse needs of the SQL engine (``sql_engine.SqlEngine`` implements it)."""

    def execute(self, statement: str, parameters: Parameters = (), *, statement_id: str = "",
                catalog: str | None = None, schema: str | None = None, principal: str = "") -> StatementResult: ...

    def cancel(self, statement_id: str) -> bool: ...

    def close(self) -> None: ...


EngineFactory = Callable[[Path, VolumeStore, SqlWarehouseConfig], Engine]


def default_engine(database: Path, volumes: VolumeStore, config: SqlWarehouseConfig) -> Engine:
    """The DuckDB-backed engine (imported late: the Genie-only simulator never loads it)."""
    from .sql_engine import SqlEngine

    return SqlEngine(database, volumes, config)


@dataclass(frozen=True)
class StatementRecord:
    """What a statement was and how it ended (for tests and the demo; no result data)."""

    statement_id: str
    workspace_id: str
    principal: str
    statement: str
    parameters: tuple[Mapping[str, Any], ...]
    query_tags: tuple[Mapping[str, Any], ...]
    state: str


@dataclass
class Statement:
    """One submitted statement. Fields after ``submitted_at`` change under :attr:`Warehouse.changed`."""

    statement_id: str
    workspace_id: str
    principal: str
    text: str
    parameters: tuple[Mapping[str, Any], ...]
    query_tags: tuple[Mapping[str, Any], ...]
    catalog: str | None
    schema: str | None
    disposition: str
    format: str
    row_limit: int | None
    byte_limit: int | None
    submitted_at: dt.datetime
    state: str = "PENDING"
    sql_state: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    result: ResultSet | None = None
    finished_at: dt.datetime | None = None
    executing: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    def record(self) -> StatementRecord:
        return StatementRecord(self.statement_id, self.workspace_id, self.principal, self.text, self.parameters,
                               self.query_tags, self.state)


@dataclass(frozen=True)
class Link:
    """A pre-signed URL's target: no Databricks token needed, valid until ``expires_at``."""

    statement_id: str
    chunk_index: int
    format: str
    expires_at: dt.datetime


def new_statement_id() -> str:
    """A UUID shaped like Databricks statement ids (``01ef…-…``)."""
    h = uuid.uuid4().hex
    return f"01f0{h[4:8]}-{h[8:12]}-1{h[13:16]}-{h[16:20]}-{h[20:32]}"


class Warehouse:
    """Statements, results, pre-signed links, the engine and the volumes of the simulated account."""

    def __init__(self, config: SqlWarehouseConfig, data_dir: Path | None, clock: Callable[[], dt.datetime],
                 engine_factory: EngineFactory | None = None):
        self.config = config
        self.clock = clock
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._engine_factory = engine_factory or default_engine
        self._build_lock = threading.Lock()
        self._engine: Engine | None = None
        self._volumes: VolumeStore | None = None
        self._temp_dir: Path | None = None
        self.changed = threading.Condition()  # guards statements, links and the fields that change
        self._statements: dict[str, Statement] = {}
        self._links: dict[str, Link] = {}
        self._threads: set[threading.Thread] = set()
        self._closed = False

    # -- shared resources ----------------------------------------------------------------------------
    def _root(self) -> Path:
        if self._data_dir is not None:
            self._data_dir.mkdir(parents=True, exist_ok=True)
            return self._data_dir
        if self._temp_dir is None:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="sim-databricks-sql-"))
        return self._temp_dir

    @property
    def volumes(self) -> VolumeStore:
        with self._build_lock:
            if self._volumes is None:
                self._volumes = VolumeStore(self._root() / "volumes")
            return self._volumes

    @property
    def engine(self) -> Engine:
        volumes = self.volumes
        with self._build_lock:
            if self._engine is None:
                self._engine = self._engine_factory(self._root() / DATABASE_FILE, volumes, self.config)
            return self._engine

    def open(self) -> None:
        """Accept statements again (after :meth:`close`, e.g. a simulator started twice)."""
        with self.changed:
            self._closed = False

    def close(self) -> None:
        """Cancel what still runs, wait briefly for the workers, close the engine, drop a temporary folder."""
        with self.changed:
            self._closed = True
            running = [s for s in self._statements.values() if not s.terminal]
            for st in running:
                self._finish(st, "CANCELED")
            threads = list(self._threads)
            self.changed.notify_all()
        engine = self._engine
        for st in running:
            if engine is not None:
                engine.cancel(st.statement_id)
        for t in threads:
            t.join(timeout=10)
        with self._build_lock:
            if self._engine is not None:
                try:
                    self._engine.close()
                except Exception:  # closing must not stop the simulator from stopping
                    logger.exception("closing the simulated SQL engine failed")
                self._engine = None
            self._volumes = None
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)
                self._temp_dir = None

    # -- statements ----------------------------------------------------------------------------------
    def submit(self, st: Statement) -> None:
        """Register a statement and start its worker."""
        thread = threading.Thread(target=self._run, args=(st,), name=f"sim-sql-{st.statement_id[:8]}", daemon=True)
        with self.changed:
            self._statements[st.statement_id] = st
            self._threads.add(thread)
        thread.start()

    def get(self, statement_id: str, workspace_id: str) -> Statement | None:
        """A statement of that workspace (others' ids are unknown there), CLOSED once its results expired."""
        with self.changed:
            st = self._statements.get(statement_id)
            if st is None or st.workspace_id != workspace_id:
                return None
            if st.state == "SUCCEEDED" and st.finished_at is not None and \
                    self.clock() >= st.finished_at + dt.timedelta(seconds=self.config.result_ttl_s):
                st.state, st.result = "CLOSED", None
            return st

    def wait(self, st: Statement, timeout_s: float) -> bool:
        """Wait until the statement is terminal (True) or ``timeout_s`` passed / the warehouse closed."""
        with self.changed:
            return self.changed.wait_for(lambda: st.terminal or self._closed, timeout=timeout_s) and st.terminal

    def cancel(self, st: Statement) -> None:
        """Cancel a statement that is not terminal yet; interrupt the engine if it is executing it."""
        with self.changed:
            if st.terminal:
                return
            executing = st.executing
            self._finish(st, "CANCELED")
        if executing:
            self.engine.cancel(st.statement_id)

    def records(self) -> list[StatementRecord]:
        with self.changed:
            return [s.record() for s in self._statements.values()]

    def state_counts(self) -> dict[str, int]:
        with self.changed:
            return dict(Counter(s.state for s in self._statements.values()))

    # -- links ---------------------------------------------------------------------------------------
    def link(self, st: Statement, chunk_index: int) -> tuple[str, dt.datetime]:
        """A fresh pre-signed token for one chunk (each GET hands out new URLs, as Databricks does)."""
        expires = self.clock() + dt.timedelta(seconds=self.config.link_ttl_s)
        if st.finished_at is not None:
            expires = min(expires, st.finished_at + dt.timedelta(seconds=self.config.result_ttl_s))
        token = secrets.token_urlsafe(24)
        with self.changed:
            now = self.clock()
            self._links = {t: v for t, v in self._links.items() if v.expires_at > now}
            self._links[token] = Link(st.statement_id, chunk_index, st.format, expires)
        return token, expires

    def resolve(self, token: str) -> tuple[Link, bytes | None] | None:
        """The link and its chunk's bytes (``None`` bytes when the result is gone); ``None`` if unknown."""
        with self.changed:
            found = self._links.get(token)
            if found is None:
                return None
            st = self._statements.get(found.statement_id)
            result = st.result if st is not None else None
            if result is None or found.chunk_index >= len(result.chunks):
                return found, None
            return found, result.chunks[found.chunk_index].payload

    # -- the worker ----------------------------------------------------------------------------------
    def _finish(self, st: Statement, state: str, *, result: ResultSet | None = None, sql_state: str | None = None,
                error_code: str | None = None, message: str | None = None) -> None:
        """Caller holds :attr:`changed`."""
        st.state, st.result, st.sql_state, st.error_code, st.error_message = state, result, sql_state, error_code, message
        st.finished_at, st.executing = self.clock(), False
        st.cancel.set()  # ends a latency wait at once; the worker sees the terminal state and stops
        self.changed.notify_all()

    def _advance(self, st: Statement, state: str) -> bool:
        """Move a live statement on; False when it was canceled meanwhile."""
        with self.changed:
            if st.terminal:
                return False
            st.state = state
            st.executing = state == "RUNNING"
            self.changed.notify_all()
            return True

    def _run(self, st: Statement) -> None:
        try:
            self._execute(st)
        finally:
            with self.changed:
                self._threads.discard(threading.current_thread())

    def _execute(self, st: Statement) -> None:
        half = self.config.latency_s / 2
        if half and st.cancel.wait(half):
            return
        if not self._advance(st, "RUNNING") or (half and st.cancel.wait(half)):
            return
        failure: tuple[str | None, str, str] | None = None
        result: ResultSet | None = None
        try:
            raw = self.engine.execute(st.text, st.parameters, statement_id=st.statement_id, catalog=st.catalog,
                                      schema=st.schema, principal=st.principal)
            result = sql_format.build(raw, fmt=st.format, disposition=st.disposition,
                                      chunk_rows=self.config.chunk_rows, row_limit=st.row_limit,
                                      byte_limit=st.byte_limit, inline_limit=self.config.inline_limit_bytes)
        except SqlFailure as e:
            failure = (e.sql_state, e.error_code, e.message)
        except sql_format.InlineLimitExceeded as e:
            failure = (None, "BAD_REQUEST", str(e))
        except Exception as e:  # a bug in the engine: fail the statement like an internal error, and log it
            if not st.cancel.is_set():
                logger.exception("simulated SQL statement %s failed", st.statement_id)
            failure = ("XX000", "INTERNAL_ERROR", f"[INTERNAL_ERROR] {type(e).__name__}: {e}")
        with self.changed:
            if st.terminal:  # canceled while executing: whatever came back is dropped
                return
            if failure is not None:
                self._finish(st, "FAILED", sql_state=failure[0], error_code=failure[1], message=failure[2])
            else:
                self._finish(st, "SUCCEEDED", result=result)

