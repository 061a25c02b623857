"""The sandbox as the embedded default runs it: scenario + local system tables + simulated workspaces."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..lifecycle.conversations import ASKER_CLIENT_ID_ENV, ASKER_CLIENT_SECRET_ENV
from ..settings import Settings, parse_settings
from ..warehouse import TableNames, WarehouseError
from ..warehouse.duckdb_backend import DuckDBWarehouse
from . import scenario_params
from .model import Scenario
from .scenario import generate
from .server import Principal, SimConfig, SimulatedDatabricks, WorkspaceFaults, loopback_ports
from .server.sql_types import SqlWarehouseConfig
from .simulated_tables import SimulatedTables
from .system_tables import SandboxTables, load_system_tables

log = logging.getLogger(__name__)

# The sandbox's test-asker service principal (``genie-obs generate-conversations`` asks as it, never as the ingestion
# principal, whose events the audit path ignores). Sandbox credentials, not a secret: a simulated workspace only.
TEST_ASKER = Principal.test_asker("genie-obs-test-asker", "sandbox-test-asker-secret")


@dataclass
class Sandbox:
    settings: Settings
    scenario: Scenario
    warehouse: SandboxTables
    sim: SimulatedDatabricks
    loaded_rows: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def deliver(self, as_of: dt.datetime | None = None) -> int:
        """Copy audit rows delivered by now (including those the simulated API calls emitted) into the
        local system tables."""
        n = load_system_tables(self.warehouse, self.scenario, as_of=as_of or dt.datetime.now(dt.timezone.utc))
        self.loaded_rows += n
        return n

    def deliver_every(self, seconds: float) -> threading.Thread:
        """Keep delivering in the background (as Databricks does), skipping a round while a run writes."""
        def loop() -> None:
            while not self._stop.wait(seconds):
                try:
                    n = self.deliver()
                    if n:
                        log.info("delivered %d new audit rows to system.access.audit", n)
                except WarehouseError as exc:
                    log.info("audit delivery skipped this round: %s", exc)

        t = threading.Thread(target=loop, name="audit-delivery", daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self._stop.set()
        self.sim.stop()


def start_sandbox(settings: Settings, today: dt.date | None = None, export_credentials: bool = True) -> Sandbox:
    """Generate the settings' scenario, load its system tables and serve its workspaces on the settings'
    loopback URLs. With ``export_credentials`` the sandbox's (non-secret) client id and secret are put in
    the environment variables the settings name, so the Genie resource finds them.

    On the embedded default the system tables are loaded into the DuckDB file; with ``warehouse.backend:
    databricks`` they live in the simulated Databricks' own SQL warehouse (which the product then reaches
    only through the Statement Execution API), whose files are kept under ``<data folder>/simulated_databricks``
    and start empty every time."""
    if settings.sandbox is None:
        raise ValueError("the sandbox needs a 'sandbox' section in the settings")
    scenario = generate(scenario_params(settings, today))
    ports = loopback_ports(scenario)
    missing = [w.id for w in settings.workspaces if w.id not in ports]
    if missing:
        raise ValueError(f"workspaces {missing} need loopback URLs like http://127.0.0.1:8781 to be simulated")
    rps = settings.sandbox.requests_per_second or None
    sim = SimulatedDatabricks(scenario, SimConfig(ports=ports, faults=WorkspaceFaults(requests_per_second=rps),
                                                  principals=(TEST_ASKER,), **_sql_config(settings)))
    try:
        sim.start()
    except OSError as exc:
        raise OSError(f"cannot serve the simulated workspaces on ports {sorted(ports.values())}: {exc}; "
                      "is another sandbox running? Stop it, or use other ports (`make dev SANDBOX_PORTS=\"9781 9782\"`: "
                      "GENIE_OBS_SANDBOX_PORT_1 and _2 for the embedded default's workspace URLs)") from None
    if export_credentials:
        creds = settings.credentials
        if creds.client_id.env and creds.client_secret.env:
            os.environ[creds.client_id.env] = sim.client_id
            os.environ[creds.client_secret.env] = sim.client_secret
        os.environ[ASKER_CLIENT_ID_ENV] = TEST_ASKER.client_id
        os.environ[ASKER_CLIENT_SECRET_ENV] = TEST_ASKER.client_secret
    names = TableNames.from_settings(settings)
    if settings.warehouse.backend == "databricks":
        wh: SandboxTables = SimulatedTables(sim.sql_engine, names)
    else:
        wh = DuckDBWarehouse(settings.warehouse.duckdb.path, names,
                             memory_limit_mb=settings.warehouse.duckdb.memory_limit_mb)
    box = Sandbox(settings, scenario, wh, sim)
    box.deliver()
    return box


def is_simulated(url: str) -> bool:
    """A workspace URL the sandbox serves: ``http://127.0.0.1:<port>`` or ``http://localhost:<port>``."""
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost") and bool(parts.port)


def free_loopback_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 right now (each socket is held until all are picked)."""
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket()
            held.append(s)
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in held]
    finally:
        for s in held:
            s.close()


def on_free_ports(settings: Settings) -> Settings:
    """The same settings with every simulated workspace (a loopback URL) moved to a free loopback port, and
    ``warehouse.databricks.host`` with it when it names one of them. For a self-contained sandbox (the demo),
    which then runs beside another one (``make dev`` on 8781/8782) without a port conflict. Another process
    could take a port between this check and the sandbox binding it; the sandbox then fails to start and
    says which port."""
    raw = settings.model_dump(mode="json", by_alias=True, exclude_none=True)
    local = [ws for ws in raw["workspaces"] if is_simulated(ws["url"])]
    moved: dict[str, str] = {}
    for ws, port in zip(local, free_loopback_ports(len(local)), strict=True):
        new = f"http://127.0.0.1:{port}"
        moved[ws["url"].rstrip("/")] = new
        ws["url"] = new
    db = raw.get("warehouse", {}).get("databricks")
    if db and db.get("host", "").rstrip("/") in moved:
        db["host"] = moved[db["host"].rstrip("/")]
    return parse_settings(raw, source="settings with the simulated workspaces on free ports")


# The variables the project's component makes the simulated workspaces' URLs from (defs.yaml:
# "http://127.0.0.1:{{ env('GENIE_OBS_SANDBOX_PORT_1', '8781') }}"), numbered in the order of the workspaces.
SANDBOX_PORT_ENV = "GENIE_OBS_SANDBOX_PORT_{}"


def env_file_lines(box: Sandbox) -> list[str]:
    """What a running sandbox puts in ``.env`` for the code location (``dg dev`` loads it for the project, over
    the environment): the sandbox's (non-secret) credentials under the names the settings give them, the test
    asker's (for ``genie_generate_conversations``), and the port each simulated workspace listens on, so the code
    location calls the workspaces this sandbox serves."""
    creds = box.settings.credentials
    lines = [f"{creds.client_id.env}={box.sim.client_id}", f"{creds.client_secret.env}={box.sim.client_secret}",
             f"{ASKER_CLIENT_ID_ENV}={TEST_ASKER.client_id}", f"{ASKER_CLIENT_SECRET_ENV}={TEST_ASKER.client_secret}"]
    for i, ws in enumerate(box.settings.workspaces, start=1):
        if ws.id in box.sim.urls:
            lines.append(f"{SANDBOX_PORT_ENV.format(i)}={urlsplit(box.sim.urls[ws.id]).port}")
    return lines


def simulated_databricks_dir(settings: Settings) -> Path:
    return Path(settings.warehouse.duckdb.path).resolve().parent / "simulated_databricks"


def _sql_config(settings: Settings) -> dict[str, Any]:
    """The simulated SQL warehouse for a Databricks-backed sandbox: the settings' warehouse id and catalogs."""
    db = settings.warehouse.databricks
    if settings.warehouse.backend != "databricks" or db is None:
        return {}
    hosts = {w.url for w in settings.workspaces}
    if db.host not in hosts:
        raise ValueError(f"warehouse.databricks.host {db.host!r} must be one of the simulated workspaces' URLs "
                         f"({', '.join(sorted(hosts))}) to run the sandbox on the Databricks back end")
    names = TableNames.from_settings(settings)
    catalogs = {names.target_catalog, *(src[0] for src in names.sources.values()), "system", "main"}
    folder = simulated_databricks_dir(settings)
    shutil.rmtree(folder, ignore_errors=True)
    return {"data_dir": folder, "sql": SqlWarehouseConfig(warehouse_ids=(db.warehouse_id,), catalogs=tuple(sorted(catalogs)))}
