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
  catalog, which Genie does not fix). Names kept are kept as written (quoted or not); a column qualified by a remapped
  table (``cat.sch.tbl.col``) is remapped with it; the pieces of SQL stored as an array of lines stay the same pieces.
  SQL that does not parse (or a table named by ``IDENTIFIER(...)``) is left as is and reported.
- **A malformed source is refused** (nothing written): a ``serialized_space`` that is not a JSON object, or whose
  sections, items, ids, SQL or identifiers are not of their documented types (:func:`shape_problems`).
- **Tables must exist**: checked through the product's warehouse (:func:`warehouse_table_lookup`): on Databricks
  ``<catalog>.information_schema.tables`` on the control workspace's SQL warehouse, which reads the same Unity
  Catalog metastore as the target workspace when both are attached to it (the usual case for workspaces of one
  region); on the embedded default the DuckDB file (``catalog__schema`` schemas).
- **etag**: an update carries the etag read by the plan; if the target changed since (the workspace answers 409,
  or the target no longer has ``expected_etag``, e.g. the one a dry run printed), it is refused unless ``force``,
  which reads the target again and writes with the fresh etag. A target read without an etag is refused unless
  ``force`` (a change made meanwhile could not be detected).
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
from .space_diff import SECTIONS, SpaceDiff, diff_spaces, items_of, json_kind, parse

TableName = tuple[str, str, str]
TableLookup = Callable[[set[TableName]], set[TableName]]  # which of these tables exist
WAREHOUSE_ID_RE = re.compile(r"^[0-9a-zA-Z]{1,64}$")
AMBIGUOUS = frozenset({E.TIMEOUT, E.SERVER_ERROR, E.MALFORMED_RESPONSE})
NAMES_ALLOWED = " (each a plain name: letters, digits and _, not starting with a digit)"
MAX_PROBLEMS = 10  # problems of a malformed serialized_space listed in one error


class PromotionError(Exception):
    """A promotion that cannot go ahead; the message says why (and names the option when one is wrong)."""


class BadOption(PromotionError):
    """An option (or its value) is wrong: the message starts with the option (the command exits 2)."""


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
                raise BadOption(f"--remap-catalog {raw!r}: expected OLD=NEW, two catalog names{NAMES_ALLOWED}")
            if old.strip().lower() in cat:
                raise BadOption(f"--remap-catalog {raw!r}: catalog {old.strip()!r} is remapped twice")
            cat[old.strip().lower()] = new.strip().lower()
        sch: dict[tuple[str, str], tuple[str, str]] = {}
        for raw in schemas:
            old, sep, new = raw.partition("=")
            parts_old, parts_new = old.strip().split("."), new.strip().split(".")
            if (not sep or len(parts_old) != 2 or len(parts_new) != 2
                    or not all(IDENTIFIER_RE.match(p) for p in parts_old + parts_new)):
                raise BadOption(f"--remap-schema {raw!r}: expected OLD_CATALOG.SCHEMA=NEW_CATALOG.SCHEMA{NAMES_ALLOWED}")
            key = (parts_old[0].lower(), parts_old[1].lower())
            if key in sch:
                raise BadOption(f"--remap-schema {raw!r}: schema {old.strip()!r} is remapped twice")
            sch[key] = (parts_new[0].lower(), parts_new[1].lower())
        return cls(cat, sch)

    @property
    def empty(self) -> bool:
        return not (self.catalogs or self.schemas)

    def name(self, catalog: str, schema: str) -> tuple[str, str]:
        key = (catalog.lower(), schema.lower())
        if key in self.schemas:
            return self.schemas[key]
        if key[0] in self.catalogs:
            return self.catalogs[key[0]], schema
        return catalog, schema


def _written_parts(identifier: str) -> list[str]:
    """``cat.sch.tbl`` or ```cat`.`sch`.`tbl``` into its parts as written (backticks kept)."""
    return re.findall(r"`(?:[^`]|``)+`|[^.]+", identifier.strip())


def _unquote(part: str) -> str:
    return part[1:-1].replace("``", "`") if len(part) > 1 and part[0] == part[-1] == "`" else part


def _quote(name: str) -> str:
    """A name as SQL text: as is when it is a plain identifier, else in backticks."""
    return name if IDENTIFIER_RE.match(name) else "`" + name.replace("`", "``") + "`"


def split_identifier(identifier: str) -> list[str]:
    """``cat.sch.tbl`` or ```cat`.`sch`.`tbl``` into its parts."""
    return [_unquote(p) for p in _written_parts(identifier)]


def remap_identifier(identifier: str, remap: Remap) -> str:
    """The identifier with its catalog and schema remapped; a part kept is kept as written (quoted or not)."""
    written = _written_parts(identifier)
    parts = [_unquote(p) for p in written]
    if len(parts) != 3:
        return identifier
    catalog, schema = remap.name(parts[0], parts[1])
    if (catalog, schema) == (parts[0], parts[1]):
        return identifier
    return ".".join((_quote(catalog), written[1] if schema == parts[1] else _quote(schema), written[2]))


Edit = tuple[int, int, str]  # replace text[start:end] by this


def _span(text: str, ident: exp.Identifier) -> tuple[int, int]:
    start, end = ident.meta["start"], ident.meta["end"] + 1
    return start, end


def sql_edits(text: str, remap: Remap, where: str, expression: bool = False) -> tuple[list[Edit], list[str]]:
    """How to remap ``text``: the edits renaming the catalog and schema of every three-part table reference and of
    the column references qualified by such a table (``cat.sch.tbl.col``; in an ``expression``, a SQL snippet with no
    FROM, every such column), and notes on references that cannot be remapped (a table named by ``IDENTIFIER(...)``).
    Raises when sqlglot cannot parse the text."""
    edits: list[Edit] = []
    renamed: set[tuple[str, str, str]] = set()

    def rename(table: exp.Table) -> str:
        idents = [p for p in table.parts if isinstance(p, exp.Identifier)]
        start, end = _span(text, idents[0])[0], _span(text, idents[-1])[1]
        original = text[start:end]
        if len(idents) != 3 or not (table.catalog and table.db):
            return original
        catalog, schema = remap.name(table.catalog, table.db)
        if (catalog, schema) == (table.catalog, table.db):
            return original
        schema_text = text[slice(*_span(text, idents[1]))] if schema == table.db else _quote(schema)
        new = f"{_quote(catalog)}.{schema_text}.{text[slice(*_span(text, idents[2]))]}"  # the name as written
        edits.append((start, end, new))
        renamed.add((table.catalog.lower(), table.db.lower(), table.name.lower()))
        return new

    sqlmod.rewrite_tables(text, where, rename)
    notes: list[str] = []
    for stmt in sqlmod.parse_text(text, where):
        for table in stmt.find_all(exp.Table):
            if isinstance(table.this, exp.Func):
                notes.append(f"{where}: the table named by {table.this.sql(dialect='databricks')} is not remapped")
        for column in stmt.find_all(exp.Column):
            idents = [p for p in column.parts if isinstance(p, exp.Identifier)]
            if len(idents) != 4 or not (expression or (column.catalog.lower(), column.db.lower(),
                                                        column.table.lower()) in renamed):
                continue
            catalog, schema = remap.name(column.catalog, column.db)
            if (catalog, schema) == (column.catalog, column.db):
                continue
            schema_text = text[slice(*_span(text, idents[1]))] if schema == column.db else _quote(schema)
            edits.append((_span(text, idents[0])[0], _span(text, idents[1])[1], f"{_quote(catalog)}.{schema_text}"))
    return sorted(set(edits)), notes


def apply_edits(lines: list[str], edits: list[Edit]) -> list[str]:
    """``lines`` (one text cut in pieces) with ``edits`` (offsets in the joined text) made, as as many pieces: each
    cut stays where it was, an edit that spans a cut lands whole in the piece where it starts."""
    text = "".join(lines)
    out = text
    for start, end, new in sorted(edits, reverse=True):
        out = out[:start] + new + out[end:]

    def moved(offset: int) -> int:
        shift = 0
        for start, end, new in sorted(edits):
            if end <= offset:
                shift += len(new) - (end - start)
            elif start < offset:
                return start + shift + len(new)
            else:
                break
        return offset + shift

    cuts, pos = [], 0
    for piece in lines[:-1]:
        pos += len(piece)
        cuts.append(moved(pos))
    bounds = [0, *cuts, len(out)]
    return [out[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def remap_sql(text: str, remap: Remap, where: str) -> str:
    """``text`` with every three-part table reference remapped, nothing else changed (raises on bad SQL)."""
    return apply_edits([text], sql_edits(text, remap, where)[0])[0]


def _is_text(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _remap_text(lines: Any, remap: Remap, where: str, problems: list[str], prefix: str = "") -> Any:
    """SQL stored as an array of lines (v2) or a string: remapped, with the same pieces (the same line boundaries).
    ``prefix`` makes an expression a statement sqlglot can parse. SQL that does not parse (or is not text) is left as
    it is, and said in ``problems``."""
    if lines is None or remap.empty:
        return lines
    if not _is_text(lines):
        problems.append(f"{where}: SQL not remapped, it is not text")
        return lines
    pieces = [prefix, *lines] if isinstance(lines, list) else [prefix, lines]
    text = "".join(pieces)
    if not text[len(prefix):].strip():
        return lines
    try:
        edits, notes = sql_edits(text, remap, where, expression=bool(prefix))
    except Exception as exc:  # sqlglot could not parse it (or gave up): leave it, and say so
        problems.append(f"{where}: SQL not remapped, it does not parse ({type(exc).__name__})")
        return lines
    problems.extend(notes)
    out = apply_edits(pieces, edits)[1:]
    return out if isinstance(lines, list) else out[0]


def _remap_lines(lines: Any, remap: Remap, where: str, problems: list[str]) -> Any:
    return _remap_text(lines, remap, where, problems)


def _remap_expression(lines: Any, remap: Remap, where: str, problems: list[str]) -> Any:
    """A snippet is an expression, not a statement: remapped as ``SELECT <expr>``."""
    return _remap_text(lines, remap, where, problems, prefix="SELECT ")


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
        answers = item.get("answer")
        for answer in answers if isinstance(answers, list) else []:
            if isinstance(answer, dict) and answer.get("format", "SQL") == "SQL" and "content" in answer:
                answer["content"] = _remap_lines(answer["content"], remap, f"benchmark {item.get('id')}", problems)
    return space, problems


# Per section: fields that hold text (a string or an array of strings) and fields that hold an object.
_TEXT_FIELDS = {"tables": ("identifier",), "metric_views": ("identifier",), "sql_functions": ("identifier",),
                "example_sqls": ("sql",), "join_specs": ("sql",), "sql_filters": ("sql",),
                "sql_expressions": ("sql",), "sql_measures": ("sql",)}
_OBJECT_FIELDS = {"join_specs": ("left", "right")}


def shape_problems(space: Mapping[str, Any]) -> list[str]:
    """Where a ``serialized_space`` is not shaped as genie-api.md 2.5 says, in the parts a promotion reads and
    remaps: a section that is not an array (or whose parent is not an object), an item that is not an object, an id
    that is not a string or is used twice in a section, SQL or an identifier that is not text, a benchmark's answer
    that is not an array of objects."""
    problems: list[str] = []
    for section in SECTIONS:
        node: Any = space
        for depth, part in enumerate(section.path):
            node = node.get(part)
            where = ".".join(section.path[:depth + 1])
            if node is None:
                break
            if depth < len(section.path) - 1 and not isinstance(node, Mapping):
                problems.append(f"{where} is {json_kind(node)}, not an object")
                break
        else:
            if not isinstance(node, list):
                problems.append(f"{where} is {json_kind(node)}, not an array")
                continue
            seen: dict[str, int] = {}
            for n, item in enumerate(node):
                at = f"{where}[{n}]"
                if not isinstance(item, Mapping):
                    problems.append(f"{at} is {json_kind(item)}, not an object")
                    continue
                if "id" in item and not isinstance(item["id"], str):
                    problems.append(f"{at}.id is {json_kind(item['id'])}, not a string")
                elif isinstance(item.get("id"), str):
                    seen[item["id"]] = seen.get(item["id"], 0) + 1
                for name in _TEXT_FIELDS.get(section.name, ()):
                    if item.get(name) is not None and not _is_text(item[name]):
                        problems.append(f"{at}.{name} is not text (a string or an array of strings)")
                for name in _OBJECT_FIELDS.get(section.name, ()):
                    if item.get(name) is not None and not isinstance(item[name], Mapping):
                        problems.append(f"{at}.{name} is {json_kind(item[name])}, not an object")
                if section.name == "benchmarks" and item.get("answer") is not None:
                    answers = item["answer"]
                    if not isinstance(answers, list) or not all(isinstance(a, Mapping) for a in answers):
                        problems.append(f"{at}.answer is not an array of objects")
                    elif any(a.get("content") is not None and not _is_text(a["content"]) for a in answers):
                        problems.append(f"{at}.answer holds content that is not text")
            problems += [f"{where}: id {i!r} is used by {k} items" for i, k in seen.items() if k > 1]
    return list(dict.fromkeys(problems))


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
        raise BadOption(f"--warehouse-id {warehouse_id!r}: expected a SQL warehouse id (letters and digits)")
    if expected_etag is not None and target_space_id is None:
        raise BadOption(f"--etag {expected_etag!r}: an etag guards an update; give --target-space too (a new space "
                        "has no etag)")
    if target_space_id is not None and target_space_id == source_space_id \
            and target.workspace_id == source.workspace_id:
        raise BadOption(f"--target-space {target_space_id}: it is the source space itself (--space, same workspace); "
                        "give another space, or none to create a copy")
    src = _read(source, source_space_id, "--space", source.workspace_id)
    if src.get("serialized_space") in (None, ""):
        raise PromotionError(f"source space {source_space_id}: no serialized_space (the principal needs CAN EDIT)")
    try:
        src_config = parse(src["serialized_space"])
    except ValueError as exc:
        raise PromotionError(f"source space {source_space_id}: serialized_space is not a JSON object ({exc}); "
                             "nothing written") from None
    if not src_config:
        raise PromotionError(f"source space {source_space_id}: serialized_space is an empty configuration; "
                             "nothing to promote")
    problems = shape_problems(src_config)
    if problems:
        more = f"; and {len(problems) - MAX_PROBLEMS} more" if len(problems) > MAX_PROBLEMS else ""
        raise PromotionError(f"source space {source_space_id}: serialized_space is malformed, nothing written: "
                             f"{'; '.join(problems[:MAX_PROBLEMS])}{more}")
    remapped, unremapped = remap_space(src_config, remap)
    current: dict[str, Any] | None = None
    if target_space_id is not None:
        current = _read(target, target_space_id, "--target-space", target.workspace_id)
        etag = current.get("etag")
        if not isinstance(etag, str) or not etag:
            if not force:
                raise PromotionError(f"target space {target_space_id}: the workspace's answer has no etag, so a change "
                                     "made meanwhile could not be detected: refused; --force to update it without one")
            current["etag"] = None
        elif expected_etag and etag != expected_etag and not force:
            raise StaleTarget(f"target space {target_space_id} changed since etag {expected_etag} was read (now "
                              f"{etag}, updated {current.get('update_time')}); run the dry run again, "
                              "or --force to overwrite it")
    wid = warehouse_id or _warehouse_of(current) or _warehouse_of(src)
    if not wid:
        raise BadOption("--warehouse-id: no SQL warehouse for the target space (the spaces read name none that is "
                        "a warehouse id): give --warehouse-id")
    try:
        old_config = parse((current or {}).get("serialized_space"))
    except ValueError:
        old_config = {}  # the target's configuration is replaced whole: diffed as empty
    old_settings = {"warehouse_id": (current or {}).get("warehouse_id")}
    diff = diff_spaces(old_config, remapped, old_settings, {"warehouse_id": wid})
    tables = referenced_tables(remapped)
    missing = missing_tables(tables, table_lookup) if table_lookup is not None else []
    title, description = ((current or src).get(k) for k in ("title", "description"))
    return PromotionPlan(
        source_workspace=source.workspace_id, source_space_id=source_space_id, target_workspace=target.workspace_id,
        target_space_id=target_space_id, title=title if isinstance(title, str) else None,
        description=description if isinstance(description, str) else None, warehouse_id=wid,
        serialized_space=remapped, diff=diff, target_etag=(current or {}).get("etag"), missing_tables=missing,
        unremapped_sql=unremapped)


def _warehouse_of(space: Mapping[str, Any] | None) -> str | None:
    wid = (space or {}).get("warehouse_id")
    return wid if isinstance(wid, str) and WAREHOUSE_ID_RE.match(wid) else None


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
            try:
                got = target.update_space(space_id, etag=fresh.get("etag"), serialized_space=text,
                                          warehouse_id=plan.warehouse_id)
            except E.GenieApiError as again:
                raise PromotionError(f"updating space {space_id} in workspace {plan.target_workspace} failed: "
                                     f"{again}") from None
            forced = True
    done = "created" if plan.creates else "updated"
    try:
        back = target.get_space(space_id, include_serialized_space=True)
        verified = parse(back.get("serialized_space")) == plan.serialized_space
    except E.GenieApiError as exc:
        raise PromotionError(f"{done} space {space_id} in workspace {plan.target_workspace}, but reading it back "
                             f"failed ({exc}): its configuration is not verified") from None
    except ValueError as exc:
        raise PromotionError(f"{done} space {space_id} in workspace {plan.target_workspace}, but it reads back "
                             f"unusable ({exc}): its configuration is not verified") from None
    etag = back.get("etag") if isinstance(back.get("etag"), str) else got.get("etag")
    return PromotionResult(space_id, plan.creates, etag if isinstance(etag, str) else None, verified, forced)


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
            raise BadOption(f"{option} {space_id!r}: {exc.message}") from None
        if exc.error_type == E.NOT_FOUND:
            raise BadOption(f"{option} {space_id}: no such space in workspace {workspace_id} (or it is in the "
                            "trash)") from None
        raise PromotionError(f"cannot read space {space_id} ({option}) in workspace {workspace_id}: {exc}") from None


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
