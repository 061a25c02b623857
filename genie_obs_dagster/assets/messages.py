"""``message_details`` and ``message_fetch_errors``: message content from the Genie API, by MERGE."""

# No `from __future__ import annotations` here: Dagster inspects the asset function's type hints at runtime.

from collections import Counter
from collections.abc import Iterator

import dagster as dg

from ..genie.client import CallStats
from ..genie.fetch import FetchSummary, fetch_messages
from ..genie.rows import FetchOutcome, MessageRef, to_tables
from ..partitions import Slice, slices
from ..resources import GenieResource, WarehouseResource
from ..settings import Settings
from ..warehouse import Warehouse
from .common import BACKFILL, check, int_metadata

API_GROUP = "genie_api"


def space_filter(settings: Settings, workspace_id: str) -> str:
    """The allow list as the SQL files take it: comma-separated validated ids, '' for every space."""
    return ",".join(settings.workspace(workspace_id).space_ids)


def _write(wh: Warehouse, outcomes: list[FetchOutcome]) -> None:
    messages, errors, resolved = to_tables(outcomes)
    if messages.num_rows:
        wh.execute("genie/merge_message_details", staged={"__staged_messages": messages})
        wh.execute("genie/resolve_fetch_errors", staged={"__staged_resolved": resolved})
    if errors.num_rows:
        wh.execute("genie/merge_fetch_errors", staged={"__staged_errors": errors})


def _refs(wh: Warehouse, sl: Slice, spaces: str) -> tuple[int, Iterator[MessageRef]]:
    pending = wh.query("genie/messages_pending_fetch", {**sl.params(), "space_ids": spaces})

    def gen() -> Iterator[MessageRef]:
        for batch in pending.to_batches(max_chunksize=1000):
            for r in batch.to_pylist():
                yield MessageRef(r["workspace_id"], r["space_id"], r["conversation_id"], r["message_id"],
                                 r["first_seen_date"], r["audit_asker_email"])

    return pending.num_rows, gen()


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
        wh = warehouse.get()
        wh.ensure_schema()
        total, stats, by_type = FetchSummary(), CallStats(), Counter()
        done = slices(context.partition_keys)
        quality: dict[str, int] = {}
        for i, sl in enumerate(done, 1):
            spaces = space_filter(settings, sl.workspace_id)
            wh.execute("genie/sync_message_dates", sl.params())
            n, refs = _refs(wh, sl, spaces)
            context.log.info(f"[{i}/{len(done)}] workspace {sl}: {n} messages without a final record")
            client = genie.client(sl.workspace_id)
            before = client.stats.as_dict()
            summary = fetch_messages(client, refs, lambda batch: _write(wh, batch),
                                     batch_size=settings.api_for(sl.workspace_id).batch_size,
                                     progress=context.log.info, total=n)
            after = client.stats.as_dict()
            stats.add(requests=after["requests"] - before["requests"], throttled=after["throttled_429"] - before["throttled_429"],
                      retries=after["retries"] - before["retries"])
            for field in ("fetched", "final", "pending", "failed"):
                setattr(total, field, getattr(total, field) + getattr(summary, field))
            total.seconds += summary.seconds
            by_type.update(summary.failed_by_type)
            q = wh.query("genie/messages_slice_quality", {**sl.params(), "space_ids": spaces}).to_pylist()[0]
            quality = dict(Counter(quality) + Counter({k: int(v or 0) for k, v in q.items()}))
            context.log.info(f"workspace {sl}: {summary.fetched} fetched ({summary.final} final, {summary.pending} "
                             f"pending), {summary.failed} failed in {summary.seconds:.1f}s")
        quality = {k: quality.get(k, 0) for k in ("listed", "unaccounted", "with_details", "final", "asker_overrides",
                                                   "open_errors", "duplicate_details", "duplicate_errors")}
        throughput = total.attempted / total.seconds if total.seconds else 0.0
        yield dg.MaterializeResult(
            asset_key="message_details",
            metadata={
                **int_metadata({"fetched": total.fetched, "final": total.final, "pending": total.pending,
                                "failed": total.failed, "listed_messages": quality["listed"],
                                "messages_with_details": quality["with_details"],
                                "asker_overrides": quality["asker_overrides"]}),
                **int_metadata(stats.as_dict()),
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
