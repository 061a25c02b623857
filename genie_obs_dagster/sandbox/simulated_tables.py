"""The sandbox's own way into the simulated Databricks' tables, server side (no HTTP, no product code path).

On Databricks the system tables are filled by Databricks itself; in the sandbox the scenario's rows are put into
the simulated warehouse's engine directly, as Databricks would deliver them. The demo and the tests also read
results back this way to compare them with the ground truth. It offers what
:func:`~genie_obs_dagster.sandbox.system_tables.load_system_tables` needs, like the embedded back end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
from sqlglot import exp

from ..warehouse import TableNames
from ..warehouse import sql as sqlmod
from ..warehouse.databricks_backend import split_statements
from ..warehouse.statements import api_parameters
from .server.warehouse import Engine


class SimulatedTables:
    def __init__(self, engine: Engine, names: TableNames):
        self.engine = engine
        self.names = names

    def _text(self, text: str, source: str) -> list[str]:
        def rename(table: exp.Table) -> str:
            return ".".join(f"`{p}`" for p in self.names.logical(table.catalog, table.db, table.name))

        return split_statements(sqlmod.rewrite_tables(text, source, rename))

    def run(self, text: str, params: Mapping[str, Any] | None = None, source: str = "<sandbox>") -> pa.Table:
        params = dict(params or {})
        result = pa.table({})
        for st in self._text(text, source):
            names = [p.name for s in sqlmod.parse_text(st, source) for p in s.find_all(exp.Placeholder) if p.name]
            result = self.engine.execute(st, api_parameters(params, list(dict.fromkeys(names))),
                                         principal="system").table
        return result

    def sql(self, text: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Ad-hoc Databricks SQL naming tables by their logical names (as the embedded back end's ``sql``)."""
        table = self.run(text, params)
        return [tuple(r.values()) for r in table.to_pylist()]

    def ensure_system_tables(self) -> None:
        """The system schemas and tables the scenario's rows go to (Databricks has them; the simulator starts empty)."""
        for name in sqlmod.ddl_files("ddl/system"):
            for stmt in sqlmod.parse_file(name):
                for table in stmt.find_all(exp.Table):
                    catalog, schema, _ = self.names.logical(table.catalog, table.db, table.name)
                    self.engine.execute(f"CREATE SCHEMA IF NOT EXISTS `{catalog}`.`{schema}`", principal="system")
            self.run(sqlmod.sql_path(name).read_text(), source=f"sql/{name}.sql")

    def insert_arrow(self, logical_table: tuple[str, str, str], rows: pa.Table) -> int:
        return self.engine.load_arrow(self.names.logical(*logical_table), rows)
