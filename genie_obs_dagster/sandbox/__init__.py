"""The sandbox: a deterministic scenario, local system tables and a simulated Databricks workspace.

A test double of Databricks for demos and tests; never used against real workspaces.
"""

from __future__ import annotations

import datetime as dt

from ..settings import Settings
from .scenario import ScenarioParams


def scenario_params(settings: Settings, today: dt.date | None = None) -> ScenarioParams:
    """Scenario matching the settings: same workspaces, principal and history window (up to yesterday)."""
    sb = settings.sandbox
    if sb is None:
        raise ValueError("settings have no 'sandbox' section; the sandbox is for the embedded default only")
    today = today or dt.datetime.now(dt.timezone.utc).date()
    start = settings.history.first_day(today)
    return ScenarioParams(
        seed=sb.seed,
        start_date=start,
        days=max(1, (today - start).days),
        workspace_ids=tuple(settings.workspace_ids),
        workspace_urls=tuple(w.url for w in settings.workspaces),
        spaces_per_workspace=sb.spaces_per_workspace,
        users=sb.users,
        questions_per_day=sb.questions_per_day,
        ingestion_principal=settings.ingestion_principal.identity,
    )
