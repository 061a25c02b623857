"""Logical table names (as written in ``sql/``) to configured and physical names, in one place.

SQL files name tables by their *default* logical names: ``system.access.audit``,
``main.genie_analytics.message_details``. Settings may move the target schema or the source tables;
the embedded back end must also map catalogs to DuckDB schemas because DuckDB reserves the catalog
names ``system`` and ``main``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..settings import IDENTIFIER_RE, Settings, validate_identifier, validate_table_name

DEFAULT_TARGET = ("main", "genie_analytics")
INFORMATION_SCHEMA = "information_schema"
DEFAULT_SOURCES = {
    "audit": ("system", "access", "audit"),
    "workspaces": ("system", "access", "workspaces_latest"),
    "query_history": ("system", "query", "history"),
}


class UnknownTableError(ValueError):
    pass


@dataclass(frozen=True)
class TableNames:
    target_catalog: str = "main"
    target_schema: str = "genie_analytics"
    sources: dict[tuple[str, str, str], tuple[str, str, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, target_catalog: str, target_schema: str, audit: str, workspaces: str, query_history: str) -> TableNames:
        """Validated names: every part must be a plain identifier (they reach SQL text)."""
        for part in (target_catalog, target_schema):
            validate_identifier(part, "target name")
        configured = {"audit": audit, "workspaces": workspaces, "query_history": query_history}
        sources = {DEFAULT_SOURCES[k]: tuple(validate_table_name(v).split(".")) for k, v in configured.items()}
        return cls(target_catalog, target_schema, sources)  # type: ignore[arg-type]

    @classmethod
    def from_settings(cls, settings: Settings) -> TableNames:
        src = settings.sources
        return cls.build(settings.target.catalog, settings.target.schema_, src.audit, src.workspaces, src.query_history)

    def logical(self, catalog: str, schema: str, table: str) -> tuple[str, str, str]:
        """Configured three-part name for a name as written in a SQL file."""
        for part in (catalog, schema, table):
            if not IDENTIFIER_RE.match(part or ""):
                raise UnknownTableError(f"table name part {part!r} is not a valid identifier")
        if (catalog, schema) == DEFAULT_TARGET:
            return (self.target_catalog, self.target_schema, table)
        if (catalog, schema) == (DEFAULT_TARGET[0], INFORMATION_SCHEMA):  # the target catalog's own
            return (self.target_catalog, INFORMATION_SCHEMA, table)
        key = (catalog, schema, table)
        if key in DEFAULT_SOURCES.values():
            return self.sources.get(key, key)
        raise UnknownTableError(
            f"{catalog}.{schema}.{table} is neither a target table (main.genie_analytics.*) nor a known source table"
        )

    def target(self, table: str) -> tuple[str, str, str]:
        return self.logical(*DEFAULT_TARGET, table)

    @staticmethod
    def duckdb_schema(catalog: str, schema: str) -> str:
        """Physical DuckDB schema for a logical catalog.schema (``system.access`` -> ``system__access``)."""
        return f"{catalog}__{schema}"
