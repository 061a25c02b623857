"""Promote a Genie space's configuration from one workspace to another (``genie-obs spaces promote``).

Two steps, so that a caller (or a test) can put time between them: :func:`plan_promotion` reads the source and
the target, remaps catalogs and schemas, checks that every table the remapped configuration names exists, and
computes the semantic diff against the target (empty target when creating); :func:`apply_promotion` writes it
through the Genie create/update space API. Plain Python, no Dagster.

- **Remapping** (``--remap-catalog OLD=NEW``, ``--remap-schema OLD.S=NEW.S``; a schema rule wins over a catalog
  rule for its schema): table, metric view and SQL function identifiers, join sides, and every table reference in
  the SQL text of example SQL, join specs, SQL snippets and benchmark answers. SQL is parsed with sqlglot
  (Databricks dialect) and only the table names are replaced in place (``warehouse.sql.rewrite_tables``), so the
  rest of the text stays as written; only three-part names are remapped (a two-part name depends on the session's
  catalog, which Genie does not fix). SQL that does not parse is left as is and reported.
- **Tables must exist**: checked through the product's warehouse (:func:`warehouse_table_lookup`): on Databricks
  ``<catalog>.information_schema.tables`` on the control workspace's SQL warehouse, which reads the same Unity
  Catalog metastore as the target workspace when both are attached to it (the usual case for workspaces of one
  region); on the embedded default the DuckDB file (``catalog__schema`` schemas).
- **etag**: an update carries the etag read by the plan; if the target changed since (the workspace answers 409,
  or the target no longer has ``expected_etag``, e.g. the one a dry run printed), it is refused unless ``force``,
  which reads the target again and writes with the fresh etag.
- **Create is not idempotent**: the POST is never replayed after a timeout, 5xx or broken answer (the client does
  not retry it); the error then names the spaces of that title now in the target, so a person can check and rerun
  with ``--target-space``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from ..genie import errors as E
from ..genie.client import GenieClient
from ..settings import IDENTIFIER_RE
from ..warehouse import Warehouse
from ..warehouse import sql as sqlmod
from .space_diff import SpaceDiff, diff_spaces, items_of, parse

TableName = tuple[str, str, str]
TableLookup = Callable[[set[TableName]], set[TableName]]  # which of these tables exist
WAREHOUSE_ID_RE = re.compile(r"^[0-9a-zA-Z]{1,64}$")
AMBIGUOUS = frozenset({E.TIMEOUT, E.SERVER_ERROR, E.MALFORMED_RESPONSE})


class PromotionError(Exception):
    """A promotion that cannot go ahead; the message says why (and names the option when one is wrong)."""


class StaleTarget(PromotionError):
    """The target space changed since it was read: refused (``--force`` overrides)."""


@dataclass(frozen=True)
class Remap:
    catalogs: dict[str, str] = field(default_factory=dict)                       # old -> new
    schemas: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (cat, schema) -> (cat, schema)

    @classmethod
    def from_options(cls, catalogs: Iterable[str] = (), schemas: Iterable[str] = ()) -> Remap:
        """From ``OLD=NEW`` and ``OLD_CAT.S=NEW_CAT.S`` strings; a malformed one names its option."""
        cat: dict[str, str] = {}
        for raw in catalogs:
            old, sep, new = raw.partition("=")
            if not sep or not IDENTIFIER_RE.match(old.strip()) or not IDENTIFIER_RE.match(new.strip()):
                raise PromotionError(f"--remap-catalog {raw!r}: expected OLD=NEW, two catalog names")
            if old.strip().lower() in cat:
                raise PromotionError(f"--remap-catalog {raw!r}: catalog {old.strip()!r} is remapped twice")
            cat[old.strip().lower()] = new.strip().lower()
        sch: dict[tuple[str, str], tuple[str, str]] = {}
        for raw in schemas:
            old, sep, new = raw.partition("=")
            parts_old, parts_new = old.strip().split("."), new.strip().split(".")
            if (not sep or len(parts_old) != 2 or len(parts_new) != 2
                    or not all(IDENTIFIER_RE.match(p) for p in parts_old + parts_new)):
                raise PromotionError(f"--remap-schema {raw!r}: expected OLD_CATALOG.SCHEMA=NEW_CATALOG.SCHEMA")
            key = (parts_old[0].lower(), parts_old[1].lower())
            if key in sch:
                raise PromotionError(f"--remap-schema {raw!r}: schema {old.strip()!r} is remapped twice")
            sch[key] = (parts_new[0].lower(), parts_new[1].lower())
        return cls(cat, sch)

    def name(self, catalog: str, schema: str) -> tuple[str, str]:
        key = (catalog.lower(), schema.lower())
        if key in self.schemas:
            return self.schemas[key]
        if key[0] in self.catalogs:
            return self.catalogs[key[0]], schema
        return catalog, schema


def split_identifier(identifier: str) -> list[str]:
    """``cat.sch.tbl`` or ```cat`.`sch`.`tbl``` into its parts."""
    return [p.strip("`") for p in re.findall(r"`[^`]+`|[^.]+", identifier.strip())]


def remap_identifier(identifier: str, remap: Remap) -> str:
    parts = split_identifier(identifier)
    if len(parts) != 3:
        return identifier
    catalog, schema = remap.name(parts[0], parts[1])
    if (catalog, schema) == (parts[0], parts[1]):
        return identifier
    return ".".join((catalog, schema, parts[2]))


def remap_sql(text: str, remap: Remap, where: str) -> str:
    """``text`` with every three-part table reference remapped, nothing else changed (raises on bad SQL)."""

    def rename(table: exp.Table) -> str:
        original = text[table.parts[0].meta["start"]:table.parts[-1].meta["end"] + 1]
        if not (table.catalog and table.db):
            return original
        catalog, schema = remap.name(table.catalog, table.db)
        if (catalog, schema) == (table.catalog, table.db):
            return original
        last = table.parts[-1]
        return f"{catalog}.{schema}.{text[last.meta['start']:last.meta['end'] + 1]}"  # the table's name as written

    return sqlmod.rewrite_tables(text, where, rename)


def _remap_lines(lines: Any, remap: Remap, where: str, problems: list[str]) -> Any:
    """SQL stored as an array of lines (v2) or a string: remapped, with the same line boundaries."""
    if lines is None:
        return None
    text = "".join(lines) if isinstance(lines, list) else str(lines)
    try:
        out = remap_sql(text, remap, where)
    except Exception as exc:  # sqlglot could not parse it: leave it, and say so
        problems.append(f"{where}: SQL not remapped, it does not parse ({type(exc).__name__})")
        return lines
    if not isinstance(lines, list):
        return out
    return out.splitlines(keepends=True) if len(lines) > 1 else [out]


def remap_space(serialized: Mapping[str, Any], remap: Remap) -> tuple[dict[str, Any], list[str]]:
    """A remapped deep copy of a ``serialized_space`` dict, and the SQL that could not be remapped."""
    space = json.loads(json.dumps(serialized))
    problems: list[str] = []
    for path in (("data_sources", "tables"), ("data_sources", "metric_views"), ("instructions", "sql_functions")):
        for item in items_of(space, path):
            if isinstance(item.get("identifier"), str):
                item["identifier"] = remap_identifier(item["identifier"], remap)
    for item in items_of(space, ("instructions", "join_specs")):
        for side in ("left", "right"):
            if isinstance(item.get(side), dict) and isinstance(item[side].get("identifier"), str):
                item[side]["identifier"] = remap_identifier(item[side]["identifier"], remap)
        if "sql" in item:
            item["sql"] = _remap_lines(item["sql"], remap, f"join spec {item.get('id')}", problems)
    for item in items_of(space, ("instructions", "example_question_sqls")):
        if "sql" in item:
            item["sql"] = _remap_lines(item["sql"], remap, f"example SQL {item.get('id')}", problems)
    for kind in ("filters", "expressions", "measures"):
        for item in items_of(space, ("instructions", "sql_snippets", kind)):
            if "sql" in item:
                item["sql"] = _remap_expression(item["sql"], remap, f"SQL {kind[:-1]} {item.get('id')}", problems)
    for item in items_of(space, ("benchmarks", "questions")):
        for answer in item.get("answer") or []:
            if isinstance(answer, dict) and answer.get("format", "SQL") == "SQL" and "content" in answer:
                answer["content"] = _remap_lines(answer["content"], remap, f"benchmark {item.get('id')}", problems)
    return space, problems


def _remap_expression(lines: Any, remap: Remap, where: str, problems: list[str]) -> Any:
    """A snippet is an expression, not a statement: remapped as ``SELECT <expr>`` and cut back."""
    text = "".join(lines) if isinstance(lines, list) else str(lines)
    prefix = "SELECT "
    try:
        out = remap_sql(prefix + text, remap, where)[len(prefix):]
    except Exception as exc:
        problems.append(f"{where}: SQL not remapped, it does not parse ({type(exc).__name__})")
        return lines
    if not isinstance(lines, list):
        return out
    return out.splitlines(keepends=True) if len(lines) > 1 else [out]


def referenced_tables(space: Mapping[str, Any]) -> list[str]:
    """Identifiers of the tables and metric views a configuration names (what must exist in the target)."""
    out = [str(i["identifier"]) for path in (("data_sources", "tables"), ("data_sources", "metric_views"))
           for i in items_of(space, path) if i.get("identifier")]
    return sorted(dict.fromkeys(out))


def missing_tables(identifiers: Iterable[str], lookup: TableLookup) -> list[str]:
    """The identifiers that do not name an existing table or view (a name that is not three parts never does)."""
    names: dict[str, TableName] = {}
    bad = []
    for ident in identifiers:
        parts = split_identifier(ident)
        if len(parts) == 3:
            names[ident] = (parts[0].lower(), parts[1].lower(), parts[2].lower())
        else:
            bad.append(ident)
    found = lookup(set(names.values()))
    return sorted(bad + [i for i, n in names.items() if n not in found])


def warehouse_table_lookup(wh: Warehouse) -> TableLookup:
    """Table existence through the product's warehouse: the embedded DuckDB file, or Unity Catalog's
    ``<catalog>.information_schema.tables`` on the Databricks SQL warehouse (one statement per catalog, the catalog a
    validated identifier, the schemas a bound parameter). A catalog that does not exist holds none of them; one the
    principal may not use is an error naming the grant (not a list of tables wrongly called missing); a name that is
    not plain identifiers is reported missing without reaching SQL."""
    from ..warehouse.databricks_backend import DatabricksWarehouse
    from ..warehouse.duckdb_backend import DuckDBWarehouse
    from ..warehouse.naming import TableNames
    from ..warehouse.statements import INLINE, StatementFailed, api_parameters

    if isinstance(wh, DuckDBWarehouse):
        def duck(wanted: set[TableName]) -> set[TableName]:
            with wh.connect() as conn:
                rows = conn.execute(
                    "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
                    "UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal "
                    "AND database_name = current_database()").fetchall()
            have = {(s.lower(), t.lower()) for s, t in rows}
            return {n for n in wanted if (TableNames.duckdb_schema(n[0], n[1]).lower(), n[2]) in have}
        return duck

    if isinstance(wh, DatabricksWarehouse):
        def databricks(wanted: set[TableName]) -> set[TableName]:
            found: set[TableName] = set()
            for catalog in sorted({n[0] for n in wanted}):
                if not IDENTIFIER_RE.match(catalog):
                    continue  # not a plain identifier: never reaches SQL text, and is reported missing
                schemas = sorted({n[1] for n in wanted if n[0] == catalog and IDENTIFIER_RE.match(n[1])})
                if not schemas:
                    continue
                params = {"schemas": ",".join(schemas)}
                try:
                    rows = wh.runner.run(tables_query(catalog), api_parameters(params, ["schemas"]),
                                         {**wh.tags, "genie_obs_sql": "promotion: target tables exist"},
                                         f"tables of catalog {catalog}", INLINE).to_pylist()
                except StatementFailed as exc:
                    if _catalog_not_found(exc):
                        continue  # no such catalog: none of its tables can be used
                    if _permission_denied(exc):
                        raise PromotionError(f"cannot check that the tables of catalog {catalog} exist: the "
                                             f"product's principal lacks a privilege on it (SQLSTATE {exc.sql_state or '-'}); "
                                             f"grant it USE CATALOG on {catalog} and USE SCHEMA on "
                                             f"{', '.join(f'{catalog}.{s}' for s in schemas)}") from None
                    raise PromotionError(f"cannot check that the tables of catalog {catalog} exist: {exc}") from None
                found |= {(catalog, r["table_schema"], r["table_name"]) for r in rows}
            return {n for n in wanted if n in found}
        return databricks
    raise PromotionError(f"cannot check tables on warehouse back end {wh.backend!r}")


def tables_query(catalog: str) -> str:
    """The statement listing the tables and views of ``catalog`` in the schemas bound as ``:schemas`` (comma-separated,
    lowercase): ``<catalog>.information_schema.tables`` of Unity Catalog. The catalog is an identifier (validated,
    quoted); the schemas are a bound value."""
    if not IDENTIFIER_RE.match(catalog):
        raise PromotionError(f"catalog {catalog!r} is not a plain identifier")
    return (f"SELECT lower(table_schema) AS table_schema, lower(table_name) AS table_name "  # noqa: S608 (validated)
            f"FROM `{catalog}`.information_schema.tables "
            "WHERE array_contains(split(:schemas, ','), lower(table_schema))")


def _catalog_not_found(exc: Any) -> bool:
    """Databricks' NO_SUCH_CATALOG_EXCEPTION (SQLSTATE 42704; every catalog has an information_schema)."""
    return (exc.sql_state or "") == "42704" or "NO_SUCH_CATALOG" in str(exc)


def _permission_denied(exc: Any) -> bool:
    return (exc.sql_state or "") == "42501" or any(k in str(exc) for k in ("PERMISSION_DENIED", "INSUFFICIENT_PERMISSIONS"))


@dataclass
class PromotionPlan:
    source_workspace: str
    source_space_id: str
    target_workspace: str
    target_space_id: str | None        # None: a new space is created
    title: str | None
    description: str | None
    warehouse_id: str
    serialized_space: dict[str, Any]   # the remapped configuration to write
    diff: SpaceDiff                    # target (or nothing) -> remapped source
    target_etag: str | None            # as read by the plan
    missing_tables: list[str]
    unremapped_sql: list[str]

    @property
    def creates(self) -> bool:
        return self.target_space_id is None

    def lines(self) -> list[str]:
        what = "create a new space" if self.creates else f"update space {self.target_space_id}"
        out = [f"promote space {self.source_space_id} of workspace {self.source_workspace} -> {what} in workspace "
               f"{self.target_workspace} (warehouse {self.warehouse_id})"]
        if self.target_etag:
            out.append(f"target etag: {self.target_etag}")
        out += self.diff.lines()
        out += [f"warning: {p}" for p in self.unremapped_sql]
        if self.missing_tables:
            out.append(f"missing in the target: {len(self.missing_tables)} table(s): {', '.join(self.missing_tables)}")
        return out


@dataclass
class PromotionResult:
    space_id: str
    created: bool
    etag: str | None
    verified: bool   # the target's serialized_space, read back, equals the remapped source
    forced: bool = False


def plan_promotion(source: GenieClient, source_space_id: str, target: GenieClient, *, target_space_id: str | None = None,
                   remap: Remap | None = None, warehouse_id: str | None = None,
                   table_lookup: TableLookup | None = None, expected_etag: str | None = None,
                   force: bool = False) -> PromotionPlan:
    """Read both sides, remap, check the tables (when ``table_lookup`` is given) and diff. ``expected_etag`` (e.g.
    printed by a dry run) makes the plan refuse a target that changed since, unless ``force``."""
    remap = remap or Remap()
    if warehouse_id is not None and not WAREHOUSE_ID_RE.match(warehouse_id):
        raise PromotionError(f"--warehouse-id {warehouse_id!r}: expected a SQL warehouse id (letters and digits)")
    src = _read(source, source_space_id, "--space", source.workspace_id)
    try:
        src_config = parse(src.get("serialized_space"))
    except ValueError as exc:
        raise PromotionError(f"source space {source_space_id}: serialized_space is not a JSON object ({exc})") from None
    if not src_config:
        raise PromotionError(f"source space {source_space_id}: no serialized_space (the principal needs CAN EDIT)")
    remapped, problems = remap_space(src_config, remap)
    current: dict[str, Any] | None = None
    if target_space_id is not None:
        current = _read(target, target_space_id, "--target-space", target.workspace_id)
        if expected_etag and current.get("etag") != expected_etag and not force:
            raise StaleTarget(f"target space {target_space_id} changed since etag {expected_etag} was read (now "
                              f"{current.get('etag')}, updated {current.get('update_time')}); run the dry run again, "
                              "or --force to overwrite it")
    wid = warehouse_id or (current or {}).get("warehouse_id") or src.get("warehouse_id")
    if not wid:
        raise PromotionError("no SQL warehouse for the target space: give --warehouse-id")
    old_config = parse((current or {}).get("serialized_space"))
    old_settings = {"warehouse_id": (current or {}).get("warehouse_id")}
    diff = diff_spaces(old_config, remapped, old_settings, {"warehouse_id": wid})
    tables = referenced_tables(remapped)
    missing = missing_tables(tables, table_lookup) if table_lookup is not None else []
    return PromotionPlan(
        source_workspace=source.workspace_id, source_space_id=source_space_id, target_workspace=target.workspace_id,
        target_space_id=target_space_id, title=(current or src).get("title"),
        description=(current or src).get("description"), warehouse_id=wid, serialized_space=remapped, diff=diff,
        target_etag=(current or {}).get("etag"), missing_tables=missing, unremapped_sql=problems)


def apply_promotion(plan: PromotionPlan, target: GenieClient, *, force: bool = False) -> PromotionResult:
    """Create or update the target space as planned; refuses missing tables, and a target changed since the plan
    read it (unless ``force``). Reads the space back to verify its configuration."""
    if plan.missing_tables:
        raise PromotionError(f"{len(plan.missing_tables)} table(s) the remapped configuration names do not exist in "
                             f"the target: {', '.join(plan.missing_tables)} (check --remap-catalog / --remap-schema, "
                             "or create them first)")
    text = json.dumps(plan.serialized_space, separators=(",", ":"))
    forced = False
    if plan.creates:
        try:
            got = target.create_space(plan.warehouse_id, text, title=plan.title, description=plan.description)
        except E.GenieApiError as exc:
            if exc.error_type in AMBIGUOUS:
                raise PromotionError(_ambiguous_create(target, plan, exc)) from None
            raise PromotionError(f"creating the space in workspace {plan.target_workspace} failed: {exc}") from None
        space_id = got["space_id"]
    else:
        assert plan.target_space_id is not None
        space_id = plan.target_space_id
        try:
            got = target.update_space(space_id, etag=plan.target_etag, serialized_space=text,
                                      warehouse_id=plan.warehouse_id)
        except E.GenieApiError as exc:
            if not _is_conflict(exc):
                raise PromotionError(f"updating space {space_id} in workspace {plan.target_workspace} failed: {exc}"
                                     ) from None
            if not force:
                raise StaleTarget(f"target space {space_id} changed since it was read (etag {plan.target_etag}): "
                                  f"refused ({exc.error_code or exc.http_status}); run again to see the new diff, or "
                                  "--force to overwrite it") from None
            fresh = _read(target, space_id, "--target-space", target.workspace_id)
            got = target.update_space(space_id, etag=fresh.get("etag"), serialized_space=text,
                                      warehouse_id=plan.warehouse_id)
            forced = True
    back = target.get_space(space_id, include_serialized_space=True)
    verified = parse(back.get("serialized_space")) == plan.serialized_space
    return PromotionResult(space_id, plan.creates, back.get("etag") or got.get("etag"), verified, forced)


def _is_conflict(exc: E.GenieApiError) -> bool:
    """The update was refused because the etag is stale (409 ABORTED in the simulated workspace; a real workspace's
    exact code is not documented, so FAILED_PRECONDITION / RESOURCE_CONFLICT are taken the same way)."""
    return exc.http_status in (409, 412) or (exc.error_code or "") in ("ABORTED", "FAILED_PRECONDITION",
                                                                       "RESOURCE_CONFLICT")


def _read(client: GenieClient, space_id: str, option: str, workspace_id: str) -> dict[str, Any]:
    try:
        return client.get_space(space_id, include_serialized_space=True)
    except E.GenieApiError as exc:
        if exc.error_type == E.BAD_REQUEST and exc.http_status is None:
            raise PromotionError(f"{option} {space_id!r}: {exc.message}") from None
        if exc.error_type == E.NOT_FOUND:
            raise PromotionError(f"{option} {space_id}: no such space in workspace {workspace_id}") from None
        raise PromotionError(f"{option} {space_id}: cannot read the space in workspace {workspace_id}: {exc}") from None


def _ambiguous_create(target: GenieClient, plan: PromotionPlan, exc: E.GenieApiError) -> str:
    """The create may or may not have happened: name the spaces of that title now in the target."""
    try:
        same = [s["space_id"] for s in target.list_spaces() if s.get("title") == plan.title]
    except E.GenieApiError:
        same = []
    found = f"spaces titled {plan.title!r} now in the target: {', '.join(same)}" if same else \
        f"no space titled {plan.title!r} is listed in the target yet"
    return (f"creating the space in workspace {plan.target_workspace} gave no clear answer ({exc}); it was not "
            f"retried, since a second create could make a duplicate. {found}. Check, then rerun with --target-space "
            "ID to update it, or without to create it.")
