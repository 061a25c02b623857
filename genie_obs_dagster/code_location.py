"""Builds the one Definitions of the code location from validated settings (tests build their own)."""

from __future__ import annotations

import warnings

import dagster as dg

from .assets.audit import AUDIT_GROUP, build_audit_assets
from .partitions import workspace_day_partitions
from .resources import WarehouseResource
from .settings import Settings

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions_def = workspace_day_partitions(settings)
    assets = build_audit_assets(settings, partitions_def)
    audit_job = dg.define_asset_job(
        "genie_audit_layer",
        selection=dg.AssetSelection.groups(AUDIT_GROUP),
        partitions_def=partitions_def,
        description="Bronze audit events and the silver list of messages to fetch, per workspace and day.",
    )
    return dg.Definitions(
        assets=assets,
        jobs=[audit_job],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
    )


