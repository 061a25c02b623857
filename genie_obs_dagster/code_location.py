"""Builds the one Definitions of the code location from validated settings (tests build their own)."""

from __future__ import annotations

import warnings

import dagster as dg

from .assets.audit import AUDIT_GROUP, build_audit_assets
from .assets.marts import MART_GROUP, build_mart_assets
from .assets.messages import API_GROUP, build_message_assets
from .assets.spaces import build_discovery_assets, build_space_assets
from .automation import with_automation
from .partitions import workspace_day_partitions, workspace_partitions
from .resources import GenieResource, WarehouseResource
from .settings import Settings

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions_def = workspace_day_partitions(settings)
    assets = (
        build_audit_assets(settings, partitions_def)
        + build_message_assets(settings, partitions_def)
        + build_space_assets(settings, workspace_partitions(settings))
        + build_discovery_assets(settings, workspace_partitions(settings))
        + build_mart_assets(settings)
    )
    audit_job = dg.define_asset_job(
        "genie_audit_layer",
        selection=dg.AssetSelection.groups(AUDIT_GROUP),
        partitions_def=partitions_def,
        description="Bronze audit events and the silver list of messages to fetch, per workspace and day.",
    )
    ingest_job = dg.define_asset_job(
        "genie_ingest",
        selection=dg.AssetSelection.groups(AUDIT_GROUP, API_GROUP)
        - dg.AssetSelection.assets("genie_space_details", "genie_api_messages"),
        partitions_def=partitions_def,
        description="The audit layer, then message content from the Genie API, per workspace and day.",
    )
    spaces_job = dg.define_asset_job(
        "genie_space_refresh",
        selection=dg.AssetSelection.assets("genie_space_details", "genie_api_messages"),
        partitions_def=workspace_partitions(settings),
        description="Space configuration (and its history) for every space seen, and the cross-check listing of "
        "every conversation, per workspace.",
    )
    marts_job = dg.define_asset_job(
        "genie_marts", selection=dg.AssetSelection.groups(MART_GROUP),
        description="Rebuild every analytics mart from the base tables, then the local HTML dashboard.",
    )
    return with_automation(settings, dg.Definitions(
        assets=assets,
        jobs=[audit_job, ingest_job, spaces_job, marts_job],
        resources={"warehouse": WarehouseResource.from_settings(settings), "genie": GenieResource.from_settings(settings)},
    ))


