"""``genie-obs doctor``: checks every permission the product needs, against the configured workspaces, and says
exactly what to grant where something is missing.

Each check does the smallest real thing the product does (a token, a statement, a read of each system table
with ``LIMIT 0``, a MERGE that matches nothing, a file written to and removed from the staging volume, a page
of spaces and of one space's conversations), so a passing doctor means the runs will not fail on access.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .genie.errors import GenieApiError
from .settings import Settings
from .warehouse import TableNames, WarehouseError


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        out = [f"{'ok  ' if self.ok else 'FAIL'} {self.check}: {self.detail}"]
        out += [f"     fix: {line}" for line in self.fix.splitlines() if line]
        return out


def _principal(settings: Settings) -> str:
    """How GRANT names the service principal: its application (client) id, which is not a secret."""
    return f"`{settings.ingestion_principal.identity}`"


def _grants(privileges: Iterable[tuple[str, str]], who: str) -> str:
    return "\n".join(f"GRANT {p} ON {on} TO {who};" for p, on in privileges)


def _attempt(check: str, action: Callable[[], str], fix: Callable[[str], str]) -> Finding:
    try:
        return Finding(check, True, action())
    except (WarehouseError, GenieApiError) as exc:
        return Finding(check, False, str(exc), fix(str(exc)))
    except Exception as exc:  # the SDK's own errors (auth, HTTP): shown, never with a secret (the SDK omits them)
        return Finding(check, False, f"{type(exc).__name__}: {exc}", fix(str(exc)))


def check_warehouse(settings: Settings, wh: Any) -> list[Finding]:
    """The SQL warehouse, the system tables, the target schema, its tables and the staging volume."""
    names = TableNames.from_settings(settings)
    who = _principal(settings)
    cat, sch = names.target_catalog, names.target_schema
    db = settings.warehouse.databricks
    assert db is not None
    found = [_attempt("SQL warehouse", lambda: _ping(wh, db.warehouse_id),
                      lambda _: f"give the service principal CAN USE on SQL warehouse {db.warehouse_id} (SQL Warehouses "
                                "-> the warehouse -> Permissions), and check warehouse.databricks.warehouse_id")]
    if not found[0].ok:
        return found
    for key, file in (("audit", "read_audit"), ("workspaces", "read_workspaces"), ("query_history", "read_query_history")):
        table = ".".join(names.logical(*_default_source(key)))
        c, s, _ = table.split(".")
        found.append(_attempt(f"read {table}", lambda f=file: _read(wh, f),
                              lambda err, c=c, s=s, t=table: _source_fix(err, c, s, t, who)))
    found.append(_attempt(f"schema {cat}.{sch} and its tables", lambda: _ensure(wh),
                          lambda _: _grants([("USE CATALOG", f"CATALOG {cat}"), ("CREATE SCHEMA", f"CATALOG {cat}"),
                                             ("USE SCHEMA", f"SCHEMA {cat}.{sch}"), ("CREATE TABLE", f"SCHEMA {cat}.{sch}"),
                                             ("CREATE VOLUME", f"SCHEMA {cat}.{sch}")], who)
                          + "\n(CREATE SCHEMA only if the schema does not exist yet)"))
    found.append(_attempt(f"write tables in {cat}.{sch}", lambda: _write(wh),
                          lambda _: _grants([("SELECT, MODIFY", f"SCHEMA {cat}.{sch}")], who)))
    volume = f"{cat}.{sch}.{db.volume}"
    found.append(_attempt(f"staging volume {volume}", lambda: _volume(wh),
                          lambda _: _grants([("READ VOLUME, WRITE VOLUME", f"VOLUME {volume}")], who)))
    return found


def _default_source(key: str) -> tuple[str, str, str]:
    from .warehouse.naming import DEFAULT_SOURCES

    return DEFAULT_SOURCES[key]


def _ping(wh: Any, warehouse_id: str) -> str:
    wh.query("doctor/ping")
    return f"warehouse {warehouse_id} runs statements"


def _read(wh: Any, file: str) -> str:
    wh.query(f"doctor/{file}")
    return "readable"


def _ensure(wh: Any) -> str:
    wh.ensure_schema()
    return "exist (created where missing, with the staging volume)"


def _write(wh: Any) -> str:
    wh.execute("doctor/write_probe")
    return "MERGE allowed (the probe changed nothing)"


def _volume(wh: Any) -> str:
    path = f"{wh.volume_path}/doctor/probe.txt"
    wh.client.files.upload(path, io.BytesIO(b"genie-obs doctor"), overwrite=True)
    wh.client.files.delete(path)
    return "a file was written and removed"


def _source_fix(err: str, catalog: str, schema: str, table: str, who: str) -> str:
    if "TABLE_OR_VIEW_NOT_FOUND" in err or "SCHEMA_NOT_FOUND" in err:
        return (f"{table} does not exist for this metastore: an account admin enables the system schema "
                f"{catalog}.{schema} (databricks system-schemas enable), or set sources.* to the right table")
    return _grants([("USE CATALOG", f"CATALOG {catalog}"), ("USE SCHEMA", f"SCHEMA {catalog}.{schema}"),
                    ("SELECT", f"TABLE {table}")], who) + "\n(system tables: granted by a metastore admin)"


def check_workspace(settings: Settings, workspace_id: str, make_client: Callable[[str], Any]) -> list[Finding]:
    """OAuth in the workspace, listing its spaces, and reading every user's conversations (CAN MANAGE)."""
    ws = settings.workspace(workspace_id)
    spaces: list[dict[str, Any]] = []
    clients: list[Any] = []

    def list_spaces() -> str:
        clients.append(make_client(workspace_id))  # resolves the credentials: a missing one is this check's failure
        spaces.extend(s for _, s in zip(range(100), clients[0].list_spaces(), strict=False))
        return f"token obtained; {len(spaces)}{'+' if len(spaces) == 100 else ''} Genie space(s) visible"

    creds = settings.credentials_for(workspace_id)
    first = _attempt(f"workspace {workspace_id} ({ws.url})", list_spaces, lambda err: _workspace_fix(err, ws.url, creds))
    if not first.ok or not spaces:
        return [first]
    space_id = spaces[0].get("space_id", "")

    def conversations() -> str:
        next(iter(clients[0].list_conversations(space_id, include_all=True, page_size=1)), None)
        return f"every user's conversations of space {space_id} can be listed"

    return [first, _attempt(f"workspace {workspace_id}: conversations of all users", conversations,
                            lambda _: "give the service principal CAN MANAGE on the workspace's Genie spaces (each "
                                      "space -> Share), or on the folder that holds them")]


def _workspace_fix(err: str, url: str, creds: Any) -> str:
    if "NO_TOKEN" in err or "not set" in err:
        return (f"make the credentials available: {creds.client_id.describe()} and {creds.client_secret.describe()}; "
                "check the token endpoint is reachable")
    if "PERMISSION_DENIED" in err or "403" in err:
        return f"add the service principal to workspace {url} and give it access to Genie (Workspace settings)"
    return f"check the client secret, and that the service principal is added to workspace {url}"


def run_doctor(settings: Settings, warehouse: Any | None, genie_client: Callable[[str], Any]) -> list[Finding]:
    found: list[Finding] = []
    if settings.warehouse.backend == "databricks":
        found += check_warehouse(settings, warehouse)
    else:
        found.append(Finding("warehouse", True, f"embedded DuckDB file {settings.warehouse.duckdb.path} (no grants needed)"))
    for ws in settings.workspace_ids:
        found += check_workspace(settings, ws, genie_client)
    return found
