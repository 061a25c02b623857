"""Space lifecycle assets: backups of every configuration version, and the configuration-changes mart.

- ``genie_space_backups`` (per workspace, like ``genie_space_details``): one JSON file per distinct configuration
  version in ``genie_space_config_history`` (``lifecycle/backup.py``): the data folder on the embedded default, the
  target schema's volume on Databricks. ``genie-obs spaces restore`` puts a version back into a space.
- ``mart_space_config_changes``: the semantic diff between consecutive versions of each space, computed in Python
  (``lifecycle/space_diff.py``, the diff ``genie-obs spaces promote --dry-run`` prints) into
  ``genie_space_config_diffs``, then the mart in SQL with the space's success rate and negative-feedback rate in
  the 7 days before and after each change (``sql/marts/mart_space_config_changes.sql``).

The backups are in the ``genie_space_lifecycle`` group and job, and in the ``genie_space_refresh`` job: the nightly
space refresh writes the backups of what it just fetched, in the same run. A refresh that skipped them loses nothing:
every pass writes whatever version of the history has no file yet. The configuration-changes mart is a mart like the
others (``genie_marts`` group and job, the marts' automation) because the dashboards chart it.
"""

# No `from __future__ import annotations` here: Dagster inspects the asset function's type hints at runtime.

import datetime as dt
from pathlib import Path

import dagster as dg
import pyarrow as pa

from ..lifecycle.backup import history_rows, store_for, write_backups
from ..lifecycle.space_diff import config_change_rows
from ..resources import WarehouseResource
from ..settings import Settings
from ..warehouse import sql as sqlmod
from .common import check, int_metadata
from .marts import MART_GROUP
from .table_metadata import ROW_COUNT, table_metadata, with_python_source

LIFECYCLE_GROUP = "genie_space_lifecycle"
LIFECYCLE_JOB = "genie_space_lifecycle"
CHANGES_MART = "mart_space_config_changes"
DIFFS_TABLE = "genie_space_config_diffs"


def backup_folder(settings: Settings) -> Path:
    """The embedded default's data folder: beside the DuckDB file."""
    return Path(settings.warehouse.duckdb.path).resolve().parent


def build_space_lifecycle_assets(settings: Settings, workspace_partitions: dg.PartitionsDefinition
                                 ) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="genie_space_backups",
        group_name=LIFECYCLE_GROUP,
        partitions_def=workspace_partitions,
        deps=["genie_space_details"],
        kinds={"python", "json"},
        owners=["team:platform"],
        description="One JSON file per distinct configuration version of every space of the workspace "
        "(space_backups/<workspace>/<space>/<config_hash>.json: in the data folder on the embedded default, in the "
        "target schema's volume on Databricks). Files are written once; `genie-obs spaces restore` restores one.",
        metadata={"sql": "sql/lifecycle/spaces/config_history.sql"},
    )
    def genie_space_backups(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        for ws in context.partition_keys:
            with warehouse.session(context) as wh:
                wh.ensure_schema()
                rows = history_rows(wh, ws)
            store = store_for(wh, backup_folder(settings))
            done = write_backups(rows, store)
            context.log.info(f"workspace {ws}: {done.versions} configuration version(s), {done.written} new backup "
                             f"file(s) in {done.location}")
            context.add_asset_metadata({**int_metadata({"configuration_versions": done.versions,
                                                        "files_written": done.written}),
                                        "location": dg.MetadataValue.path(f"{done.location}/{ws}")}, partition_key=ws)

    @dg.asset(
        name=CHANGES_MART,
        group_name=MART_GROUP,
        deps=["genie_space_details", "message_details"],
        kinds={"python", "sql", settings.warehouse.backend},
        owners=["team:platform"],
        description="One row per configuration change of every space (workspace_id, space_id, to_config_hash): the "
        "semantic diff (items added, removed and changed per section, by name) and the space's success rate and "
        "negative-feedback rate in the 7 days before and after the change. The diffs are computed in Python into "
        "genie_space_config_diffs; the mart is rebuilt in full.",
        metadata={"grain": "workspace_id, space_id, to_config_hash",
                  **table_metadata(settings, CHANGES_MART, also_writes=[DIFFS_TABLE],
                                   sql=["lifecycle/spaces/config_history", f"marts/{CHANGES_MART}",
                                        f"checks/marts/{CHANGES_MART}"])},
        check_specs=[
            dg.AssetCheckSpec("grain", asset=CHANGES_MART,
                              description="(workspace_id, space_id, to_config_hash) is not null and unique"),
            dg.AssetCheckSpec("reconciles", asset=CHANGES_MART,
                              description="one row per version after the first of every space in "
                              "genie_space_config_history"),
        ],
    )
    def mart_space_config_changes(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.session(context) as wh:
            wh.ensure_schema()
            now = dt.datetime.now(dt.timezone.utc)
            rows = config_change_rows(history_rows(wh, ""), now)
            if rows:
                table = pa.Table.from_pylist(rows, schema=sqlmod.ddl_arrow_schema(DIFFS_TABLE))
                wh.merge_rows(DIFFS_TABLE, table, ["workspace_id", "space_id", "to_config_hash"])
            inserted = wh.replace(CHANGES_MART, f"marts/{CHANGES_MART}", {}, where={})
            q = {k: int(v or 0) for k, v in wh.query(f"checks/marts/{CHANGES_MART}").to_pylist()[0].items()}
        context.log.info(f"{CHANGES_MART}: {inserted} configuration change(s)")
        return dg.MaterializeResult(metadata={ROW_COUNT: q["row_count"]}, check_results=[
            check("grain", q["null_keys"] == 0 and q["duplicate_keys"] == 0,
                  "rows with a null or repeated (workspace_id, space_id, to_config_hash)",
                  null_keys=q["null_keys"], duplicate_keys=q["duplicate_keys"]),
            check("reconciles", q["total"] == q["expected_total"],
                  "one row per version after the first of every space", total=q["total"],
                  expected_total=q["expected_total"]),
        ])

    return with_python_source([genie_space_backups, mart_space_config_changes])


def build_space_lifecycle_job():  # an unresolved asset job
    return dg.define_asset_job(
        LIFECYCLE_JOB, selection=dg.AssetSelection.groups(LIFECYCLE_GROUP),
        description="Backups of every space configuration version, per workspace (genie_space_refresh writes them "
        "too, after the space details; this job is for a backup on demand).",
    )
