"""The sandbox as the embedded default runs it: scenario + local system tables + simulated workspaces."""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from dataclasses import dataclass, field

from ..settings import Settings
from ..warehouse import TableNames, WarehouseError
from ..warehouse.duckdb_backend import DuckDBWarehouse
from . import scenario_params
from .model import Scenario
from .scenario import generate
from .server import SimConfig, SimulatedDatabricks, WorkspaceFaults, loopback_ports
from .system_tables import load_system_tables

log = logging.getLogger(__name__)


@dataclass
class Sandbox:
    settings: Settings
    scenario: Scenario
    warehouse: DuckDBWarehouse
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
    the environment variables the settings name, so the Genie resource finds them."""
    if settings.warehouse.backend != "duckdb" or settings.sandbox is None:
        raise ValueError("the sandbox runs on the embedded default: warehouse.backend duckdb and a 'sandbox' section")
    scenario = generate(scenario_params(settings, today))
    ports = loopback_ports(scenario)
    missing = [w.id for w in settings.workspaces if w.id not in ports]
    if missing:
        raise ValueError(f"workspaces {missing} need loopback URLs like http://127.0.0.1:8781 to be simulated")
    rps = settings.sandbox.requests_per_second or None
    sim = SimulatedDatabricks(scenario, SimConfig(ports=ports, faults=WorkspaceFaults(requests_per_second=rps)))
    try:
        sim.start()
    except OSError as exc:
        raise OSError(f"cannot serve the simulated workspaces on ports {sorted(ports.values())}: {exc}; "
                      "is another sandbox running? Stop it or change the workspace URLs in the settings") from None
    if export_credentials:
        creds = settings.credentials
        if creds.client_id.env and creds.client_secret.env:
            os.environ[creds.client_id.env] = sim.client_id
            os.environ[creds.client_secret.env] = sim.client_secret
    wh = DuckDBWarehouse(settings.warehouse.duckdb.path, TableNames.from_settings(settings))
    box = Sandbox(settings, scenario, wh, sim)
    box.deliver()
    return box
