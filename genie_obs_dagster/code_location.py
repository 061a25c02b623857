"""Builds the one Definitions of the code location from validated settings (tests build their own)."""

from __future__ import annotations

import functools

import dagster as dg

from .assets.audit import AUDIT_GROUP, build_audit_assets
from .assets.evals import build_eval_assets, eval_job
from .assets.generated import build_generated_assets, build_generated_jobs
from .assets.marts import MART_GROUP, build_mart_assets
from .assets.messages import API_GROUP, build_message_assets
from .assets.space_lifecycle import build_space_lifecycle_assets, build_space_lifecycle_job
from .assets.spaces import build_discovery_assets, build_space_assets
from .automation import FRESHNESS, FRESHNESS_GROUPS, INGEST_JOB, MARTS_JOB, SPACE_JOB, marts_condition
from .partitions import workspace_day_partitions, workspace_partitions
from .resources import GenieResource, WarehouseResource
from .schedules import build_eval_schedules, build_schedules
from .sensors import build_audit_sensor, build_marts_sensor
from .settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    partitions_def = workspace_day_partitions(settings)
    assets = (
        build_audit_assets(settings, partitions_def)
        + build_message_assets(settings, partitions_def)
        + build_space_assets(settings, workspace_partitions(settings))
        + build_discovery_assets(settings, workspace_partitions(settings))
        + build_mart_assets(settings)
        + build_eval_assets(settings, workspace_partitions(settings))  # benchmarks, with an `evals` section only
        + build_space_lifecycle_assets(settings, workspace_partitions(settings))  # backups, config changes
    )
    assets = dg.map_asset_specs(functools.partial(automated, marts_cron=settings.automation.marts_cron), assets)
    generated_assets, generated_checks = build_generated_assets(settings)  # test conversations, run on demand
    assets = [*assets, *generated_assets]
    audit_job = dg.define_asset_job(
        "genie_audit_layer",
        selection=dg.AssetSelection.groups(AUDIT_GROUP),
        description="Bronze audit events and the silver list of messages to fetch, per workspace and day.",
    )
    ingest_job = dg.define_asset_job(
        INGEST_JOB,
        selection=dg.AssetSelection.groups(AUDIT_GROUP, API_GROUP)
        - dg.AssetSelection.assets("genie_space_details", "genie_api_messages"),
        description="The audit layer, then message content from the Genie API, per workspace and day.",
    )
    spaces_job = dg.define_asset_job(
        SPACE_JOB,
        selection=dg.AssetSelection.assets("genie_space_details", "genie_api_messages", "genie_space_backups"),
        description="Space configuration (and its history) for every space seen, a backup file of every configuration "
        "version, and the cross-check listing of every conversation, per workspace.",
    )
    marts_job = dg.define_asset_job(
        MARTS_JOB, selection=dg.AssetSelection.groups(MART_GROUP),
        description="Rebuild every analytics mart from the base tables, then the local HTML dashboard (the "
        "genie_marts_sensor does it after upstream changes; this job is for a rebuild on demand).",
    )
    return dg.Definitions(
        assets=assets,
        jobs=[audit_job, ingest_job, spaces_job, marts_job, *build_generated_jobs(), *eval_job(settings),
              build_space_lifecycle_job()],
        asset_checks=generated_checks,
        sensors=[build_audit_sensor(settings), build_marts_sensor()],
        schedules=build_schedules(settings) + build_eval_schedules(settings),
        resources={"warehouse": WarehouseResource.from_settings(settings), "genie": GenieResource.from_settings(settings)},
    )


def automated(spec: dg.AssetSpec, marts_cron: str) -> dg.AssetSpec:
    """An asset's part in what runs by itself: the ingest assets expect to be refreshed at least daily (the sensor
    and the schedules do it), the marts and the dashboard follow their upstream (``automation.marts_condition``)."""
    if spec.group_name in FRESHNESS_GROUPS:
        return spec.replace_attributes(freshness_policy=FRESHNESS)
    if spec.group_name == MART_GROUP:
        return spec.replace_attributes(automation_condition=marts_condition(marts_cron))
    return spec
