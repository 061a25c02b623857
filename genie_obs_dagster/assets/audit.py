"""The audit layer: ``genie_audit_events`` (bronze) and ``genie_messages_to_fetch`` (silver), both SQL."""

# No `from __future__ import annotations` here: Dagster inspects the asset functions' type hints at runtime.


import dagster as dg

from ..partitions import Slice
from ..resources import WarehouseResource
from ..settings import Settings
from .common import (
    BACKFILL,
    add_daily_metadata,
    check,
    md_preview,
    run_slices,
    space_filter,
    sum_first_rows,
)
from .table_metadata import table_metadata, with_python_source

AUDIT_GROUP = "genie_audit"
# A range run writes bronze and silver in blocks of at most this many days (each block one statement, whole
# partitions, in date order), so a backfill's warehouse memory is bounded by a block, not by the history:
# a 90-day x 1,000 questions/day backfill stays within warehouse.duckdb.memory_limit's 192MB default. The same
# rows as one statement: a range run equals day-by-day runs in any order (test_audit_assets.py).
BLOCK_DAYS = 14


def build_audit_assets(settings: Settings, partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    principal = settings.ingestion_principal.identity
    # Both are SQL run inside the warehouse, one writer at a time (warehouse.session claims the pool
    # genie_obs_warehouse), a whole workspace history per backfill run.
    shared = {"group_name": AUDIT_GROUP, "partitions_def": partitions_def, "backfill_policy": BACKFILL,
              "kinds": {"sql", settings.warehouse.backend}, "owners": ["team:platform"]}

    @dg.asset(
        name="genie_audit_events",
        **shared,
        metadata=table_metadata(settings, "genie_audit_events",
                                sql=["audit/genie_audit_events", "checks/audit_events_slice"]),
        description="Every aibiGenie audit event of a workspace and day, typed (ids pulled out of request_params). "
        "Grain: one event (event_id). Rerunning a partition replaces exactly that partition's rows.",
        check_specs=[
            dg.AssetCheckSpec("matches_source", asset="genie_audit_events",
                              description="Row count equals the source's aibiGenie rows for the partition"),
            dg.AssetCheckSpec("event_id_unique", asset="genie_audit_events",
                              description="event_id is unique across the workspace's rows"),
        ],
    )
    def genie_audit_events(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.session(context) as wh:
            wh.ensure_schema()

            def load(sl: Slice) -> int:
                return sum(wh.replace(
                    "genie_audit_events", "audit/genie_audit_events",
                    {**b.params(), "ingestion_principal": principal, "space_ids": space_filter(settings, b.workspace_id)},
                    where={"workspace_id": b.workspace_id, "event_date": (b.start_date, b.end_date)},
                ) for b in sl.blocks(BLOCK_DAYS))

            done, _ = run_slices(context, "genie_audit_events", load)
            quality = sum_first_rows(wh.query("checks/audit_events_slice", {
                **sl.params(), "space_ids": space_filter(settings, sl.workspace_id)}) for sl in done)
            for sl in done:
                add_daily_metadata(context, sl, wh.query("audit/audit_events_summary", sl.params()), row_count="events")
            return dg.MaterializeResult(
                check_results=[
                    check("matches_source", quality["bronze_rows"] == quality["source_rows"],
                          "bronze rows vs aibiGenie rows in the source audit table",
                          bronze_rows=quality["bronze_rows"], source_rows=quality["source_rows"]),
                    check("event_id_unique", quality["duplicate_event_ids"] == 0, "duplicate event ids in the workspace",
                          duplicate_event_ids=quality["duplicate_event_ids"]),
                ],
            )

    @dg.asset(
        name="genie_messages_to_fetch",
        **shared,
        metadata=table_metadata(settings, "genie_messages_to_fetch",
                                sql=["audit/genie_messages_to_fetch", "checks/messages_to_fetch_slice"]),
        deps=[genie_audit_events],
        description="One row per (workspace_id, message_id) that a person touched, with the asker as far as the "
        "audit log can tell. A row belongs to the first day it was seen; a partition run recomputes the rows "
        "of the messages it touched from all of bronze, so late audit rows never duplicate or lose a message.",
        check_specs=[
            dg.AssetCheckSpec("key_unique", asset="genie_messages_to_fetch",
                              description="(workspace_id, message_id) is unique across the whole table"),
            dg.AssetCheckSpec("rows_belong_to_partition", asset="genie_messages_to_fetch",
                              description="Every message first seen in the partition has exactly one row, owned "
                              "by the day of its earliest person event"),
        ],
    )
    def genie_messages_to_fetch(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.session(context) as wh:
            wh.ensure_schema()

            def upsert(sl: Slice) -> int:
                return sum(wh.merge("genie_messages_to_fetch", "audit/genie_messages_to_fetch", b.params(),
                                    keys=["workspace_id", "message_id"]) for b in sl.blocks(BLOCK_DAYS))

            done, _ = run_slices(context, "genie_messages_to_fetch", upsert)
            quality = sum_first_rows(wh.query("checks/messages_to_fetch_slice", sl.params()) for sl in done)
            for sl in done:
                add_daily_metadata(context, sl, wh.query("audit/messages_to_fetch_summary", sl.params()),
                                   row_count="messages")
            preview = wh.query("audit/messages_to_fetch_preview", done[-1].params()) if done else None
            metadata = {"preview": md_preview(preview)} if preview is not None else {}
            return dg.MaterializeResult(
                metadata=metadata,
                check_results=[
                    check("key_unique", quality["duplicate_keys"] == 0, "duplicate (workspace_id, message_id) keys",
                          duplicate_keys=quality["duplicate_keys"]),
                    check("rows_belong_to_partition", quality["misowned_rows"] == 0 and quality["missing_rows"] == 0,
                          "messages first seen in the partition that are missing or owned by another day",
                          misowned_rows=quality["misowned_rows"], missing_rows=quality["missing_rows"]),
                ],
            )

    return with_python_source([genie_audit_events, genie_messages_to_fetch])
