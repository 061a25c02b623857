"""``genie_dashboard_html``: the local dashboard, rendered from the marts into the embedded default's output
folder (next to the DuckDB file), so that ``make demo`` ends with something to look at."""

# No `from __future__ import annotations` here: Dagster inspects the asset function's type hints at runtime.

import datetime as dt
from pathlib import Path

import dagster as dg

from ..dashboard import datasets, html
from ..resources import WarehouseResource
from ..settings import Settings
from .common import int_metadata
from .table_metadata import CODE_REFERENCES, code_references


def dashboard_path(settings: Settings) -> Path:
    """Where the local dashboard is written: ``<folder of the DuckDB file>/dashboard/index.html``."""
    return Path(settings.warehouse.duckdb.path).resolve().parent / "dashboard" / "index.html"


def dashboard_asset(settings: Settings, group: str, marts: list[str]) -> dg.AssetsDefinition:
    @dg.asset(
        name="genie_dashboard_html",
        group_name=group,
        deps=marts,
        kinds={"html"},
        owners=["team:platform"],
        # Not a table: where the file is written, and the dataset queries it shows (one SELECT per dataset).
        metadata={"path": dg.MetadataValue.path(str(dashboard_path(settings))),
                  "dagster/uri": dashboard_path(settings).as_uri(),
                  CODE_REFERENCES: code_references(d.sql_name for d in datasets.DATASETS)},
        description="A self-contained HTML dashboard over the marts (8 pages and a page per space, SVG charts, "
        "workspace and date-range filters, prompt search, sortable tables with CSV export; works offline). Written "
        "next to the embedded warehouse file: dashboard/index.html.",
    )
    def genie_dashboard_html(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.session(context) as wh:  # pool genie_obs_warehouse
            wh.ensure_schema()
            data = datasets.load(wh)
        path = html.write(dashboard_path(settings), data, dt.datetime.now(dt.timezone.utc))
        searchable = sum(1 for m in data.get("messages", []) if m.get("has_text"))
        context.log.info(f"dashboard written to {path}")
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(path)),
            "url": dg.MetadataValue.url(path.as_uri()),
            "bytes": dg.MetadataValue.int(path.stat().st_size),
            # how far back the page's search and per-message figures reach (bounded: dashboard/pack.py)
            **int_metadata({"messages_searchable": searchable}),
            **int_metadata({f"rows_{k}": v for k, v in datasets.row_counts(data).items()}),
        })

    return genie_dashboard_html
