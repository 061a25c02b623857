"""``message_details`` and ``message_fetch_errors``: message content from the Genie API, by MERGE."""

# No `from __future__ import annotations` here: Dagster inspects the asset function's type hints at runtime.

import time
from collections import Counter

import dagster as dg

from ..concurrency import slot_guard
from ..genie.fetch import FetchSummary
from ..genie.ingest import ingest
from ..partitions import slices
from ..resources import GenieResource, WarehouseResource
from ..settings import Settings
from .common import BACKFILL, check, int_metadata, space_filter

API_GROUP = "genie_api"


def build_message_assets(settings: Settings, partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    kinds = {"python", "databricks"}

    @dg.multi_asset(
        name="genie_message_fetch",
        group_name=API_GROUP,
        partitions_def=partitions_def,
        backfill_policy=BACKFILL,
        specs=[
            dg.AssetSpec("message_details", deps=["genie_messages_to_fetch"], kinds=kinds, owners=["team:platform"],
                         description="Genie messages from the API, one row per (workspace_id, message_id) by MERGE: "
                         "question, status, asker (API user_id resolved through SCIM), SQL, answer, error, feedback. "
                         "Messages not final yet are fetched again on later runs."),
            dg.AssetSpec("message_fetch_errors", deps=["genie_messages_to_fetch"], kinds=kinds, owners=["team:platform"],
                         description="One row per message whose fetch failed: type, attempts, first/last attempt, "
                         "resolved when a later attempt succeeds. Permanent errors (404, 403) are not retried."),
        ],
        check_specs=[
            dg.AssetCheckSpec("every_listed_message_accounted_for", asset="message_details",
                              description="Each message listed for the partition has a record or a fetch error"),
            dg.AssetCheckSpec("key_unique", asset="message_details"),
            dg.AssetCheckSpec("key_unique", asset="message_fetch_errors"),
        ],
    )
    def genie_message_fetch(context: dg.AssetExecutionContext, warehouse: WarehouseResource, genie: GenieResource):
        wh = warehouse.get(context)
        wh.ensure_schema()
        started = time.monotonic()
        results = ingest(
            wh, slices(context.partition_keys), genie.client,
            lambda ws: {"spaces": space_filter(settings, ws), "batch_size": settings.api_for(ws).batch_size},
            progress=context.log.info, guard=slot_guard(context),
        )
        total, by_type = FetchSummary(), Counter()
        quality: Counter[str] = Counter()
        stats = {"requests": 0, "throttled_429": 0, "retries": 0}
        for r in results:
            for field in ("fetched", "final", "pending", "failed"):
                setattr(total, field, getattr(total, field) + getattr(r.summary, field))
            by_type.update(r.summary.failed_by_type)
            quality.update(r.quality)
            stats["requests"] += r.requests
            stats["throttled_429"] += r.throttled
            stats["retries"] += r.retries
        elapsed = time.monotonic() - started
        throughput = total.attempted / elapsed if elapsed else 0.0
        yield dg.MaterializeResult(
            asset_key="message_details",
            metadata={
                **int_metadata({"fetched": total.fetched, "final": total.final, "pending": total.pending,
                                "failed": total.failed, "listed_messages": quality["listed"],
                                "messages_with_details": quality["with_details"],
                                "asker_overrides": quality["asker_overrides"]}),
                **int_metadata(stats),
                "messages_per_second": dg.MetadataValue.float(round(throughput, 2)),
            },
            check_results=[
                check("every_listed_message_accounted_for", quality["unaccounted"] == 0,
                      "listed messages with neither a record nor a fetch error", "message_details",
                      unaccounted=quality["unaccounted"], listed=quality["listed"]),
                check("key_unique", quality["duplicate_details"] == 0, "duplicate (workspace_id, message_id)",
                      "message_details", duplicates=quality["duplicate_details"]),
            ],
        )
        yield dg.MaterializeResult(
            asset_key="message_fetch_errors",
            metadata={**int_metadata({"failed_this_run": total.failed, "open_errors": quality["open_errors"]}),
                      "failed_by_type": dg.MetadataValue.json(dict(by_type))},
            check_results=[
                check("key_unique", quality["duplicate_errors"] == 0, "duplicate (workspace_id, message_id)",
                      "message_fetch_errors", duplicates=quality["duplicate_errors"]),
            ],
        )

    return [genie_message_fetch]
