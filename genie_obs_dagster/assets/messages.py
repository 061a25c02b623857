"""``message_details`` and ``message_fetch_errors``: message content from the Genie API, by MERGE."""

# No `from __future__ import annotations` here: Dagster inspects the asset function's type hints at runtime.

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Sequence

import dagster as dg

from ..concurrency import slot_guard
from ..genie.errors import NOT_FOUND
from ..genie.ingest import SliceResult, failed_types, ingest
from ..partitions import partition_key, slices
from ..resources import GenieResource, WarehouseResource
from ..settings import Settings
from ..warehouse import Warehouse
from .common import BACKFILL, check, int_metadata, space_filter
from .table_metadata import ROW_COUNT, table_metadata, with_python_source

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
                         metadata=table_metadata(settings, "message_details", sql=[
                             "genie/messages_pending_fetch", "genie/merge_message_details", "genie/sync_from_audit",
                             "genie/messages_slice_quality"]),
                         description="Genie messages from the API, one row per (workspace_id, message_id) by MERGE: "
                         "question, status, asker (API user_id resolved through SCIM), SQL, answer, error, feedback. "
                         "Messages not final yet are fetched again on later runs."),
            dg.AssetSpec("message_fetch_errors", deps=["genie_messages_to_fetch"], kinds=kinds, owners=["team:platform"],
                         metadata=table_metadata(settings, "message_fetch_errors", sql=[
                             "genie/merge_fetch_errors", "genie/resolve_fetch_errors", "genie/sync_from_audit",
                             "genie/messages_slice_quality"]),
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
        quality: Counter[str] = Counter()
        for r in results:
            quality.update(r.quality)
            add_partition_metadata(context, wh, r, space_filter(settings, r.slice.workspace_id))
        add_workspace_api_metadata(context, results)
        elapsed = time.monotonic() - started
        # Only figures that do not add up go on every partition of the run; counts are per partition above.
        attempted = sum(r.summary.attempted for r in results)
        rate = {"messages_per_second": dg.MetadataValue.float(round(attempted / elapsed if elapsed else 0.0, 2))}
        yield dg.MaterializeResult(
            asset_key="message_details",
            metadata=rate,
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
            metadata=rate,
            check_results=[
                check("key_unique", quality["duplicate_errors"] == 0, "duplicate (workspace_id, message_id)",
                      "message_fetch_errors", duplicates=quality["duplicate_errors"]),
            ],
        )
        fail_if_nothing_fetched(results)

    return with_python_source([genie_message_fetch])


def add_partition_metadata(context: dg.AssetExecutionContext, wh: Warehouse, r: SliceResult, spaces: str) -> None:
    """Each (workspace, day) partition gets its own figures, so that sums over partitions in the UI add up; its
    ``dagster/row_count`` is the rows that partition owns in each table (first_seen_date)."""
    tables = {row["first_seen_date"]: row for row in wh.query(
        "genie/messages_by_day", {**r.slice.params(), "space_ids": spaces}).to_pylist()}
    rows = {row["day"]: row for row in wh.query("genie/message_rows_by_day", r.slice.params()).to_pylist()}
    for day in r.slice.each_day():
        key = partition_key(r.slice.workspace_id, day)
        done, held, owned = r.by_day.get(day, Counter()), tables.get(day, {}), rows.get(day, {})
        context.add_asset_metadata(int_metadata({
            ROW_COUNT: owned.get("details_rows") or 0,
            "fetched": done["fetched"], "failed": done["failed"],
            **{k: held.get(k) or 0 for k in ("listed_messages", "messages_with_details", "final_messages")},
        }), asset_key="message_details", partition_key=key)
        context.add_asset_metadata({
            **int_metadata({ROW_COUNT: owned.get("fetch_error_rows") or 0,
                            "failed_this_run": done["failed"], "open_errors": held.get("open_fetch_errors") or 0}),
            "failed_by_type": dg.MetadataValue.json(failed_types(done)),
        }, asset_key="message_fetch_errors", partition_key=key)


def add_workspace_api_metadata(context: dg.AssetExecutionContext, results: Sequence[SliceResult]) -> None:
    """API calls are the workspace's, not a day's: counted once per workspace, on its latest partition of the run."""
    calls: dict[str, Counter[str]] = defaultdict(Counter)
    last: dict[str, dt.date] = {}
    for r in results:
        ws = r.slice.workspace_id
        calls[ws].update({"api_requests": r.requests, "api_throttled_429": r.throttled, "api_retries": r.retries})
        last[ws] = max(last.get(ws, r.slice.end_date), r.slice.end_date)
    for ws, figures in calls.items():
        context.add_asset_metadata(int_metadata({k: figures[k] for k in ("api_requests", "api_throttled_429", "api_retries")}),
                                   asset_key="message_details", partition_key=partition_key(ws, last[ws]))


def fail_if_nothing_fetched(results: Sequence[SliceResult]) -> None:
    """A workspace whose every fetch failed makes the run fail, after its errors are recorded.

    The usual cause is a wrong, missing or revoked credential, or a principal without access: the errors are
    in message_fetch_errors (not permanent: retried on later runs) and a green run would hide them. A
    workspace whose only failures are deleted messages (NOT_FOUND) is not a failure of the pipeline.
    """
    per_ws: dict[str, Counter[str]] = defaultdict(Counter)
    first: dict[str, str] = {}
    for r in results:
        ws = r.slice.workspace_id
        for counts in r.by_day.values():
            per_ws[ws].update(counts)
        if r.first_error is not None:
            first.setdefault(ws, str(r.first_error))
    broken = {ws: c for ws, c in per_ws.items()
              if c["failed"] and not c["fetched"] and set(failed_types(c)) - {NOT_FOUND}}
    if not broken:
        return
    lines = []
    for ws, c in sorted(broken.items()):
        types = ", ".join(f"{t} {n}" for t, n in sorted(failed_types(c).items()))
        lines.append(f"workspace {ws}: none of {c['failed']} message(s) could be fetched ({types}); first error: {first.get(ws, '?')}")
    raise dg.Failure(
        description="Nothing could be fetched from the Genie API of " + "; ".join(lines) + ". The failures are recorded "
        "in message_fetch_errors and are retried on later runs; check the workspace's credentials (settings "
        "`credentials` / `workspaces[].credentials`) and that the service principal can read its Genie spaces.",
        metadata={"workspaces": dg.MetadataValue.json(sorted(broken))},
    )
