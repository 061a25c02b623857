"""Analytics marts: small tables rebuilt in full from the base tables by one SQL file each (``sql/marts/``).

Marts are unpartitioned: they are small, and a full rebuild from the base tables is the simplest way to keep
every figure right after late audit rows, refetched messages or a new space configuration. Each mart has a
documented grain (its DDL in ``sql/ddl/target/``) and an asset check on it; where a mart's totals must add up
to another table's, a second check says so.
"""

# No `from __future__ import annotations` here: Dagster inspects the asset function's type hints at runtime.

from dataclasses import dataclass

import dagster as dg

from ..resources import WarehouseResource
from ..settings import Settings
from ..warehouse import Warehouse
from .common import check
from .dashboard import dashboard_asset
from .messages import space_filter
from .table_metadata import ROW_COUNT, table_metadata, with_python_source

MART_GROUP = "genie_marts"
# genie_api_messages also writes message_details (messages only the API listing found)
BASE = ("genie_audit_events", "genie_messages_to_fetch", "message_details", "message_fetch_errors",
        "genie_space_details", "genie_api_messages")


@dataclass(frozen=True)
class Mart:
    name: str
    grain: tuple[str, ...]
    deps: tuple[str, ...]
    description: str
    reconciles: str | None = None  # what the mart's totals must add up to (checked), when anything
    per_workspace: bool = False  # rebuilt one configured workspace at a time (needs the space allow list)


MARTS: tuple[Mart, ...] = (
    Mart("mart_messages", ("workspace_id", "message_id"), BASE,
         "Prompts and SQL: one row per Genie message with its question, status, Genie's description, SQL, answer, "
         "asker (API, else audit log), feedback and the statement's query-history figures.",
         "one row per message listed from the audit log or held in message_details"),
    Mart("mart_daily_activity", ("workspace_id", "space_id", "activity_date"), ("mart_messages",),
         "Questions, conversations, askers, outcomes, success rate, feedback and SQL statements per workspace, "
         "space and day.", "questions add up to mart_messages"),
    Mart("mart_space_leaderboard", ("workspace_id", "space_id"), ("mart_messages", "genie_space_details"),
         "Spaces with their titles, ranked by questions within their workspace.", "questions add up to mart_messages"),
    Mart("mart_adoption_daily", ("scope", "activity_date"), ("mart_messages",),
         "Daily, weekly (7-day), new and returning askers per workspace and for all workspaces together ('all').",
         "questions of scope 'all' add up to mart_messages"),
    Mart("mart_askers", ("scope", "asker"), ("mart_messages",),
         "Every asker's activity per workspace and for all workspaces ('all'), ranked: the top users.",
         "questions of scope 'all' add up to mart_messages"),
    Mart("mart_failures", ("workspace_id", "space_id", "activity_date", "error_type"), ("mart_messages",),
         "Failed Genie answers by error type, space and day.", "failures add up to the failed messages"),
    Mart("mart_sql_performance", ("workspace_id", "space_id"), ("mart_messages",),
         "SQL Genie ran per space, from system.query.history: duration percentiles, rows read, failed statements.",
         "statements add up to the messages that ran SQL"),
    Mart("mart_space_config_items", ("workspace_id", "space_id", "config_hash", "item_type", "item_index"),
         ("genie_space_details",),
         "Sample questions, tables, instructions, example SQL, join specs and benchmarks of every space "
         "configuration version, parsed from serialized_space."),
    Mart("mart_space_config_versions", ("workspace_id", "space_id", "config_hash"),
         ("mart_space_config_items", "genie_space_details"),
         "Every configuration version of every space with item counts: configuration changes over time.",
         "one row per configuration in genie_space_config_history"),
    Mart("mart_pipeline_health", ("workspace_id",), BASE,
         "Per workspace: coverage (messages with details / messages listed), pending messages, open fetch errors, "
         "freshness (latest audit event, latest fetch).", per_workspace=True),
    Mart("mart_fetch_errors", ("workspace_id", "object_type", "error_type"), BASE,
         "Message and space fetch errors by type: open, permanent, resolved.",
         "errors add up to both fetch-error tables"),
)


def rebuild(wh: Warehouse, mart: Mart, settings: Settings) -> int:
    """Replace the mart's rows in one transaction (per workspace for a per-workspace mart, which then also drops
    the rows of workspaces no longer configured)."""
    if not mart.per_workspace:
        return wh.replace(mart.name, f"marts/{mart.name}", {}, where={})
    rows = 0
    for ws in settings.workspace_ids:
        rows += wh.replace(mart.name, f"marts/{mart.name}", {"workspace_id": ws, "space_ids": space_filter(settings, ws)},
                           where={"workspace_id": ws})
    wh.execute(f"marts/prune_{mart.name.removeprefix('mart_')}", {"workspace_ids": ",".join(settings.workspace_ids)})
    return rows


def mart_sql(mart: Mart) -> list[str]:
    """The SQL files of a mart: its query, its prune of unconfigured workspaces (per-workspace marts), its check."""
    prune = [f"marts/prune_{mart.name.removeprefix('mart_')}"] if mart.per_workspace else []
    return [f"marts/{mart.name}", *prune, f"checks/marts/{mart.name}"]


def _mart_asset(mart: Mart, settings: Settings) -> dg.AssetsDefinition:
    specs = [dg.AssetCheckSpec("grain", asset=mart.name, description=f"({', '.join(mart.grain)}) is not null and unique")]
    if mart.reconciles:
        specs.append(dg.AssetCheckSpec("reconciles", asset=mart.name, description=mart.reconciles))

    @dg.asset(
        name=mart.name,
        group_name=MART_GROUP,
        deps=list(mart.deps),
        kinds={"sql", settings.warehouse.backend},
        owners=["team:platform"],
        description=f"{mart.description} Grain: ({', '.join(mart.grain)}). Rebuilt in full from the base tables.",
        metadata={"grain": ", ".join(mart.grain), "sql": f"sql/marts/{mart.name}.sql",
                  **table_metadata(settings, mart.name, sql=mart_sql(mart))},
        check_specs=specs,
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.session(context) as wh:  # pool genie_obs_warehouse
            wh.ensure_schema()
            inserted = rebuild(wh, mart, settings)
            q = {k: int(v or 0) for k, v in wh.query(f"checks/marts/{mart.name}").to_pylist()[0].items()}
        context.log.info(f"{mart.name}: {inserted} rows")
        results = [check("grain", q["null_keys"] == 0 and q["duplicate_keys"] == 0,
                         f"rows with a null or repeated ({', '.join(mart.grain)})",
                         null_keys=q["null_keys"], duplicate_keys=q["duplicate_keys"])]
        if mart.reconciles:
            results.append(check("reconciles", q["total"] == q["expected_total"], mart.reconciles,
                                 total=q["total"], expected_total=q["expected_total"]))
        return dg.MaterializeResult(metadata={ROW_COUNT: q["row_count"]}, check_results=results)

    return _asset


def build_mart_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """Every mart, then the local dashboard over them (all in the ``genie_marts`` group)."""
    marts = [_mart_asset(m, settings) for m in MARTS]
    charted = [m.name for m in MARTS] + ["mart_space_config_changes"] + (["mart_eval_accuracy"] if settings.evals else [])
    return with_python_source(marts + [dashboard_asset(settings, MART_GROUP, charted)])
