"""``genie_space_details`` (+ configuration history): every space seen in the audit layer, from the API."""

# No `from __future__ import annotations` here: Dagster inspects the asset function's type hints at runtime.

import datetime as dt
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import dagster as dg

from ..concurrency import slot_guard
from ..genie.discovery import discover
from ..genie.errors import NOT_FOUND, GenieApiError
from ..genie.spaces import space_tables
from ..resources import GenieResource, WarehouseResource
from ..settings import Settings
from .common import int_metadata, md_preview, space_filter
from .messages import API_GROUP
from .table_metadata import ROW_COUNT, table_metadata, with_python_source


def per_workspace(workspace_partitions: dg.PartitionsDefinition) -> dict:
    """What the per-workspace API assets share: one partition per workspace, fed by all of its days of
    genie_messages_to_fetch."""
    return {
        "group_name": API_GROUP,
        "partitions_def": workspace_partitions,
        "kinds": {"python", "databricks"},
        "owners": ["team:platform"],
        "deps": [dg.AssetDep("genie_messages_to_fetch", partition_mapping=dg.MultiToSingleDimensionPartitionMapping(
            partition_dimension_name="workspace"))],
    }


def build_space_assets(settings: Settings, workspace_partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="genie_space_details",
        **per_workspace(workspace_partitions),
        metadata=table_metadata(
            settings, "genie_space_details", also_writes=["genie_space_config_history", "genie_space_fetch_errors"],
            sql=["genie/spaces_to_fetch", "genie/merge_space_details", "genie/merge_space_history",
                 "genie/resolve_space_fetch_errors", "genie/merge_space_fetch_errors", "genie/spaces_accounted"]),
        description="Configuration of every Genie space seen in genie_messages_to_fetch (GET space with "
        "include_serialized_space=true), merged on (workspace_id, space_id); failed fetches never overwrite good "
        "data. Every distinct configuration is also kept in genie_space_config_history.",
        check_specs=[dg.AssetCheckSpec("every_space_accounted_for", asset="genie_space_details",
                                       description="Each space seen in the audit layer has details or a fetch error")],
    )
    def genie_space_details(context: dg.AssetExecutionContext, warehouse: WarehouseResource, genie: GenieResource):
        wh = warehouse.get(context)
        wh.ensure_schema()
        missing = 0
        unreadable: list[str] = []
        guard = slot_guard(context)
        for ws in context.partition_keys:
            spaces = [r["space_id"] for r in wh.query("genie/spaces_to_fetch", {
                "workspace_id": ws, "space_ids": space_filter(settings, ws)}).to_pylist()]
            client = genie.client(ws)

            def get(space_id: str, client=client) -> tuple[str, dict | GenieApiError]:
                try:
                    return space_id, client.get_space(space_id, include_serialized_space=True)
                except GenieApiError as exc:
                    return space_id, exc

            with guard(ws), ThreadPoolExecutor(max_workers=client.settings.concurrency) as pool:
                results = list(pool.map(get, spaces))
            ok = [r for _, r in results if isinstance(r, dict)]
            bad = [(sid, r) for sid, r in results if isinstance(r, GenieApiError)]
            before = wh.query("genie/space_history_count", {"workspace_id": ws}).to_pylist()[0]["versions"]
            details, history, errors = space_tables(ws, ok, bad, dt.datetime.now(dt.timezone.utc))
            if details.num_rows:
                wh.execute("genie/merge_space_details", staged={"__staged_spaces": details})
                wh.execute("genie/merge_space_history", staged={"__staged_history": history})
                wh.execute("genie/resolve_space_fetch_errors", staged={"__staged_spaces": details})
            if errors.num_rows:
                wh.execute("genie/merge_space_fetch_errors", staged={"__staged_space_errors": errors})
            after = wh.query("genie/space_history_count", {"workspace_id": ws}).to_pylist()[0]["versions"]
            accounted = wh.query("genie/spaces_accounted", {"workspace_id": ws, "space_ids": space_filter(settings, ws)})
            missing += int(accounted.to_pylist()[0]["unaccounted"])
            failed_types = Counter(e.error_type for _, e in bad)
            context.log.info(f"workspace {ws}: {len(ok)} spaces fetched, {len(bad)} failed "
                             f"({', '.join(sorted(failed_types)) or 'none'}), {after - before} new configuration(s)")
            # Each workspace partition shows its own figures (a range run covers several workspaces).
            held = wh.query("genie/workspace_table_rows", {"workspace_id": ws}).to_pylist()[0]
            context.add_asset_metadata({
                **int_metadata({ROW_COUNT: held["space_details"] or 0, "spaces_fetched": len(ok),
                                "spaces_failed": len(bad), "new_configuration_versions": after - before,
                                "configuration_versions": held["space_config_versions"] or 0,
                                "open_space_fetch_errors": held["open_space_fetch_errors"] or 0}),
                "preview": md_preview(wh.query("genie/space_details_preview", {"workspace_id": ws})),
            }, partition_key=ws)
            if bad and not ok and set(failed_types) != {NOT_FOUND}:
                unreadable.append(f"workspace {ws}: none of {len(bad)} space(s) could be fetched "
                                  f"({', '.join(f'{t} {n}' for t, n in sorted(failed_types.items()))}); "
                                  f"first error: {bad[0][1]}")
        yield dg.MaterializeResult(
            check_results=[dg.AssetCheckResult(check_name="every_space_accounted_for", passed=missing == 0,
                                               metadata={"unaccounted": missing})],
        )
        if unreadable:
            raise dg.Failure(description="; ".join(unreadable) + ". The failures are recorded in "
                             "genie_space_fetch_errors and retried on the next refresh; check the workspace's credentials "
                             "and that the service principal can read its Genie spaces.")

    return with_python_source([genie_space_details])


def build_discovery_assets(settings: Settings, workspace_partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="genie_api_messages",
        **per_workspace(workspace_partitions),
        metadata=table_metadata(settings, "genie_api_messages", also_writes=["message_details"],
                                sql=["genie/merge_api_messages", "genie/api_only_messages_to_store",
                                     "genie/merge_message_details", "genie/discovery_coverage"]),
        description="Cross-check of the audit log: every message found by listing all conversations of every space "
        "(include_all=true). Messages the audit log missed are stored in message_details with discovered_via = 'api'.",
        check_specs=[dg.AssetCheckSpec("audit_log_coverage", asset="genie_api_messages",
                                       description="Share of API-listed messages that the audit log also discovered "
                                       "(warns below 90%)")],
    )
    def genie_api_messages(context: dg.AssetExecutionContext, warehouse: WarehouseResource, genie: GenieResource):
        wh = warehouse.get(context)
        wh.ensure_schema()
        totals: dict[str, int] = {}
        for ws in context.partition_keys:
            allowed = set(settings.workspace(ws).space_ids)
            with slot_guard(context)(ws):
                found = discover(wh, genie.client(ws), allowed, space_filter(settings, ws), context.log.info)
            cov = wh.query("genie/discovery_coverage", {"workspace_id": ws, "space_ids": space_filter(settings, ws)})
            for k, v in {**found, **cov.to_pylist()[0]}.items():
                totals[k] = totals.get(k, 0) + int(v or 0)
            context.log.info(f"workspace {ws}: {found['listed']} listed, {found['stored_api_only']} stored that the audit log missed")
            held = wh.query("genie/workspace_table_rows", {"workspace_id": ws}).to_pylist()[0]
            context.add_asset_metadata(int_metadata({ROW_COUNT: held["api_messages"] or 0}), partition_key=ws)
        coverage = totals["in_both"] / totals["api_messages"] if totals.get("api_messages") else 1.0
        return dg.MaterializeResult(
            metadata={**totals, "audit_log_coverage": dg.MetadataValue.float(round(coverage, 4))},
            check_results=[dg.AssetCheckResult(check_name="audit_log_coverage", passed=coverage >= 0.9,
                                               severity=dg.AssetCheckSeverity.WARN,
                                               metadata={"coverage": round(coverage, 4), "api_only": totals.get("api_only", 0)})],
        )

    return with_python_source([genie_api_messages])
