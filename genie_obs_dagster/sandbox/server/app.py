"""The simulated Databricks: one :class:`WorkspaceApp` per workspace, each served on its own port, and
one SQL warehouse (:class:`~.warehouse.Warehouse`: statements, engine, volumes) shared by all of them.

Request pipeline of a workspace (the order a real front end applies, as far as it is observable):
latency -> route -> bearer token (401) -> request-rate limit (429) -> injected HTTP fault -> handler
(400 / 404 / 403 / question limit 429 / work) -> ``aibiGenie`` audit row (any status, once the caller is
known) -> transport fault while writing the answer. Genie handlers run under the scenario lock; SQL and
Files handlers (``Route.locked=False``) guard their own state, since a statement may be waited on for 50 s.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..model import Scenario
from . import auth, evals, files_api, genie, lakeview_api, sql_api
from .auth import TokenStore
from .config import Principal, SimConfig
from .faults import HTTP_FAULTS, Fault, Limiter, WorkspaceFaults
from .protocol import ApiError, Request, Response, throttled
from .routing import Call, Route, match
from .state import WorkspaceState
from .transport import WorkspaceServer
from .volumes import VolumeStore
from .warehouse import Engine, EngineFactory, StatementRecord, Warehouse

logger = logging.getLogger(__name__)
ROUTES = auth.ROUTES + genie.ROUTES + sql_api.ROUTES + files_api.ROUTES
ROUTES = ROUTES + evals.ROUTES  # eval runs (benchmarks): sandbox/server/evals.py
ROUTES = ROUTES + lakeview_api.ROUTES  # AI/BI dashboards and workspace folders: sandbox/server/lakeview_api.py
ROUTE_KINDS = frozenset(r.kind for r in ROUTES)
_AUDIT_PATH_KEYS = ("space_id", "conversation_id", "message_id")


@dataclass(frozen=True)
class Stats:
    """Counters of one workspace since start (for tests and benchmarks)."""

    requests: int
    throttled: int
    tokens_issued: int
    by_kind: dict[str, int]
    by_status: dict[int, int]


@dataclass
class _Counters:
    requests: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, status: int) -> None:
        with self.lock:
            self.requests += 1
            self.by_kind[kind] += 1
            self.by_status[status] += 1


def _fault_error(fault: Fault) -> ApiError:
    status, code, message = HTTP_FAULTS[fault.effect]
    headers = {"Retry-After": str(fault.retry_after_s)} if status in (429, 503) else None
    return ApiError(status, code, message, headers=headers)


def _break_body(resp: Response, fault: Fault) -> None:
    """Apply a transport fault to an answer about to be written."""
    if fault.effect == "truncate":
        resp.body = resp.body[: len(resp.body) // 2]
    elif fault.effect == "malformed":
        resp.body = resp.body.replace(b'":', b'"=', 1) if b'":' in resp.body else b"{" + resp.body
    elif fault.effect == "timeout":
        resp.delay_s = fault.delay_s
    else:  # drop, short_read: the socket layer breaks the connection
        resp.transport = fault.effect


class WorkspaceApp:
    """Serves one workspace; :meth:`handle` is socket-free so it can be called directly."""

    def __init__(self, state: WorkspaceState, tokens: TokenStore, config: SimConfig, faults: WorkspaceFaults,
                 stopping: threading.Event, warehouse: Warehouse):
        self.state = state
        self.tokens = tokens
        self.config = config
        self.warehouse = warehouse
        self.limiter = Limiter(faults)
        self.base_url = ""
        self._stopping = stopping
        self._counters = _Counters()

    # -- controls --------------------------------------------------------------------------------
    def set_faults(self, faults: WorkspaceFaults) -> None:
        """Replace limits and faults as a whole (rate-limit and fault counters restart)."""
        _check_kinds(faults)
        self.limiter = Limiter(faults)

    def stats(self) -> Stats:
        c = self._counters
        with c.lock:
            return Stats(c.requests, c.by_status.get(429, 0), self.tokens.issued, dict(c.by_kind), dict(c.by_status))

    def admit_question(self) -> None:
        """Genie's questions-per-minute limit (start-conversation and create-message only)."""
        wait = self.limiter.admit_question()
        if wait:
            n, window = self.limiter.config.questions_per_window, self.limiter.config.question_window_s
            raise throttled(f"Exceeded the limit of {n} Genie questions per {window:g} seconds for this workspace. "
                            "Please wait and try again.", wait)

    def now(self) -> dt.datetime:
        return self.config.clock()

    # -- pipeline --------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        limiter = self.limiter  # one consistent set of faults for the whole request
        delay = limiter.latency()
        if delay:
            self._stopping.wait(delay)
        found = match(ROUTES, req.method, req.path)
        route, path = found if found else (None, {})
        call = Call(req, path, self, self.now())
        request_id = str(uuid.uuid4())
        resp, error, fault = self._run(call, route, limiter, request_id)
        if route is not None and route.action and call.principal is not None:
            with self.state.lock:
                self.state.emit_audit(action=route.action, caller=call.principal, params=call.audit_params,
                                      status=resp.status, error=error.audit_message if error else None,
                                      user_agent=req.header("User-Agent"), client_ip=req.client_ip, now=call.now)
        rewrite = limiter.config.rewrite_body
        if rewrite is not None and route is not None and 200 <= resp.status < 300:
            replaced = rewrite(route.kind, call.path, resp.body)
            if replaced is not None:
                resp.body = replaced
        if fault is not None and fault.effect not in HTTP_FAULTS:
            _break_body(resp, fault)
        resp.headers["x-databricks-org-id"] = self.state.workspace.workspace_id
        resp.headers["x-request-id"] = request_id
        self._counters.record(route.kind if route else "unknown", resp.status)
        return resp

    def _run(self, call: Call, route: Route | None, limiter: Limiter,
             request_id: str) -> tuple[Response, ApiError | None, Fault | None]:
        """Authenticate, throttle, inject an HTTP fault or run the handler: (answer, error, fault drawn)."""
        req, fault = call.request, None
        try:
            if (route is None and req.path.startswith("/api/")) or (route is not None and route.authenticated):
                call.principal = self.tokens.authenticate(req)
            if route is None:
                raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{req.method} {req.path}'")
            call.audit_params = {k: call.path[k] for k in _AUDIT_PATH_KEYS if k in call.path}
            if route.authenticated:
                wait = limiter.admit_request()
                if wait:
                    raise throttled("Too many requests. Please wait a moment and try again.", wait)
            fault = limiter.draw(route.kind)
            if fault is not None and fault.effect in HTTP_FAULTS:
                raise _fault_error(fault)
            if not route.locked:
                return route.handler(call), None, fault
            with self.state.lock:
                return route.handler(call), None, fault
        except ApiError as e:
            return e.to_response(request_id), e, fault
        except Exception:  # a bug in the simulator: answer like a real server would, and say so in the log
            logger.exception("simulated workspace %s failed on %s %s", self.state.workspace.workspace_id, req.method, req.path)
            error = ApiError(500, "INTERNAL_ERROR", "Internal server error")
            return error.to_response(request_id), error, fault


def _check_kinds(faults: WorkspaceFaults) -> None:
    for f in faults.faults:
        unknown = set(f.kinds or ()) - ROUTE_KINDS
        if unknown:
            raise ValueError(f"fault {f.effect!r} targets unknown route kinds {sorted(unknown)}; known: {sorted(ROUTE_KINDS)}")


def serve_until_stopped(stop: Callable[[], None], announce: Callable[[], None] = lambda: None) -> None:
    """Block the foreground process until Ctrl-C or SIGTERM, then call ``stop``. ``announce`` (the banner that tells
    a user or a test to press Ctrl-C) runs inside the guard, so a Ctrl-C right after it still stops cleanly."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        announce()
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stop()


def loopback_ports(scenario: Scenario) -> dict[str, int]:
    """Ports of workspaces whose scenario URL is a loopback ``http://127.0.0.1:<port>`` (as in settings)."""
    out = {}
    for ws in scenario.workspaces:
        url = urlsplit(ws.url)
        if url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost") and url.port:
            out[ws.workspace_id] = url.port
    return out


class SimulatedDatabricks:
    """Simulated Databricks workspaces of a scenario, each on its own loopback port.

    Example::

        with SimulatedDatabricks(scenario, SimConfig(token_ttl_s=60)) as sim:
            w = WorkspaceClient(host=sim.urls[workspace_id], client_id=sim.client_id,
                                client_secret=sim.client_secret, auth_type="oauth-m2m")
    """

    def __init__(self, scenario: Scenario, config: SimConfig | None = None, *, workspace_ids: Iterable[str] | None = None,
                 sql_engine_factory: EngineFactory | None = None):
        """``sql_engine_factory(database, volumes, sql_config)`` replaces the DuckDB engine (e.g. a test fake)."""
        self.scenario = scenario
        self.config = config = config or SimConfig()
        if config.clock().tzinfo is None:
            raise ValueError("SimConfig.clock must return an aware UTC datetime")
        wanted = set(workspace_ids) if workspace_ids is not None else None
        self.principal = Principal.service_principal(config.client_id or scenario.ingestion_principal, config.client_secret)
        principals = [self.principal, *config.principals]
        if len({p.client_id for p in principals}) != len(principals):
            raise ValueError("principal client ids must be unique")
        self._lock = threading.RLock()  # the workspaces share the scenario's lists
        self._stopping = threading.Event()
        self._apps: dict[str, WorkspaceApp] = {}
        self.warehouse = Warehouse(config.sql, config.data_dir, config.clock, sql_engine_factory)
        for i, ws in enumerate(scenario.workspaces):
            if wanted is not None and ws.workspace_id not in wanted:
                continue
            faults = config.faults_for(ws.workspace_id)
            _check_kinds(faults)
            state = WorkspaceState(scenario, ws, seed=scenario.seed * 7919 + 104729 * (i + 1), lock=self._lock,
                                   principals=principals, audit_delay_s=config.audit_delay_s,
                                   answer_delay_s=config.answer_delay_s, answer_status=config.answer_status)
            self._apps[ws.workspace_id] = WorkspaceApp(state, TokenStore(principals, config.token_ttl_s), config, faults,
                                                       self._stopping, self.warehouse)
        self._servers: dict[str, WorkspaceServer] = {}

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> dict[str, str]:
        """Bind and serve every workspace; returns workspace id -> base URL."""
        if self._servers:
            return self.urls
        self._stopping.clear()
        self.warehouse.open()
        try:
            for wid, app in self._apps.items():
                server = WorkspaceServer((self.config.host, self.config.ports.get(wid, 0)), app, self._stopping)
                app.base_url = server.base_url
                self._servers[wid] = server
                server.start()
        except BaseException:
            self.stop()
            raise
        return self.urls

    def stop(self) -> None:
        self._stopping.set()
        for server in self._servers.values():
            server.stop()
        self._servers.clear()
        self.warehouse.close()

    def __enter__(self) -> SimulatedDatabricks:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- access ----------------------------------------------------------------------------------
    @property
    def urls(self) -> dict[str, str]:
        return {wid: s.base_url for wid, s in self._servers.items()}

    @property
    def client_id(self) -> str:
        return self.principal.client_id

    @property
    def client_secret(self) -> str:
        return self.principal.client_secret

    @property
    def sql_engine(self) -> Engine:
        """The SQL engine shared by every workspace (built on first use)."""
        return self.warehouse.engine

    @property
    def volumes(self) -> VolumeStore:
        """The Unity Catalog volumes shared by every workspace (built on first use)."""
        return self.warehouse.volumes

    def sql_statements(self, workspace_id: str | None = None) -> list[StatementRecord]:
        """Statements submitted through the Statement Execution API, in submission order, with their state."""
        return [r for r in self.warehouse.records() if workspace_id in (None, r.workspace_id)]

    def sql_state_counts(self) -> dict[str, int]:
        """Number of statements per current state (SUCCEEDED, FAILED, CANCELED, CLOSED, PENDING, RUNNING)."""
        return self.warehouse.state_counts()

    def app(self, workspace_id: str) -> WorkspaceApp:
        return self._apps[workspace_id]

    def set_faults(self, workspace_id: str, faults: WorkspaceFaults) -> None:
        self._apps[workspace_id].set_faults(faults)

    def stats(self, workspace_id: str) -> Stats:
        return self._apps[workspace_id].stats()

    def emitted_audit_events(self, workspace_id: str | None = None) -> list[dict[str, Any]]:
        """Audit rows written by API calls to the simulator (a copy), in event-time then emission order."""
        with self._lock:
            rows = [r for wid, a in self._apps.items() if workspace_id in (None, wid) for r in a.state.emitted]
        return sorted(rows, key=lambda r: r["event_time"])  # stable: emission order within equal times

    def delivered_audit_events(self, until: dt.datetime, *, after: dt.datetime | None = None,
                               workspace_id: str | None = None) -> list[dict[str, Any]]:
        """Rows of ``scenario.audit_events`` delivered in ``(after, until]`` (what system.access.audit shows)."""
        with self._lock:
            rows = [r for r in self.scenario.audit_events
                    if r["_delivered_at"] <= until and (after is None or r["_delivered_at"] > after)
                    and workspace_id in (None, r["workspace_id"])]
        return sorted(rows, key=lambda r: r["event_time"])  # stable: emission order within equal times
