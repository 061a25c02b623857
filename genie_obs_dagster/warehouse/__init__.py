"""The warehouse: one small interface, two back ends (embedded DuckDB, Databricks SQL warehouse).

Never imports dagster: the Dagster resource in ``genie_obs_dagster.resources`` wraps it.
"""

from .base import Warehouse, WarehouseBusy, WarehouseError
from .naming import TableNames

__all__ = ["TableNames", "Warehouse", "WarehouseBusy", "WarehouseError"]
