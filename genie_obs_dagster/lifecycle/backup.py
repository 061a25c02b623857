"""Backups of Genie space configurations, one JSON file per distinct version, and restoring one into a space.

Files live under ``space_backups/<workspace_id>/<space_id>/<config_hash>.json``: in the data folder beside the
embedded DuckDB file (``data/space_backups/`` by default), or on Databricks in the product's Unity Catalog volume in
the target schema (``/Volumes/<target.catalog>/<target.schema>/<warehouse.databricks.volume>/space_backups/``, by
default ``/Volumes/main/genie_analytics/genie_obs_staging/space_backups/``: the volume the product already reads and
writes, created with the schema, or here if missing; its ``staging/`` folder is the only one the product cleans up, so
backups are never removed). A version's file is written once, whole (a temporary file renamed locally, one PUT on a
volume): its name is its content hash (``genie_space_config_history.config_hash``), so an existing file is never
rewritten and a rerun writes nothing.

A file holds what the hash covers (title, description, warehouse_id, serialized_space as a JSON object, readable
and diffable) plus where and when it was seen. Restoring PATCHes those four fields into a space with the etag
just read (a change made meanwhile is refused unless ``force``) and reads the space back: its content hash is then
the backup's, so the next space refresh records the version as seen again. Plain Python, no Dagster.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..genie import errors as E
from ..genie.client import GenieClient
from ..genie.spaces import config_hash
from ..warehouse import Warehouse

FOLDER = "space_backups"
FORMAT = "genie-obs space configuration backup"
HASH_RE = re.compile(r"^[0-9a-f]{6,64}$")
FULL_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")  # a workspace or space id: one plain path segment


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why (naming the option when one is wrong)."""


class BadOption(BackupError):
    """An option (or its value) is wrong: the message starts with the option (the command exits 2)."""


class BackupStore(Protocol):
    location: str

    def names(self, folder: str) -> list[str]: ...
    def write(self, name: str, data: bytes) -> None: ...
    def read(self, name: str) -> bytes: ...


class LocalStore:
    """Backups in a local folder (the embedded default's data folder)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.location = str(self.root)

    def names(self, folder: str) -> list[str]:
        path = self.root / folder
        return sorted(p.name for p in path.iterdir() if p.is_file() and not p.name.startswith(".")) \
            if path.is_dir() else []

    def write(self, name: str, data: bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"  # one per writer: two runs never share it
        try:
            tmp.write_bytes(data)
            tmp.replace(path)  # a reader never sees half a file
        finally:
            tmp.unlink(missing_ok=True)

    def read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()


class VolumeStore:
    """Backups in a Unity Catalog volume, through the Files API (``WorkspaceClient.files``).

    A file is uploaded whole in one PUT (never seen half written) and never overwritten: its name is its content
    hash, so a file another run wrote meanwhile (409 ``ALREADY_EXISTS``) is the same backup. Each space's folder is
    created first (``mkdir -p``, idempotent); a volume that is missing (dropped, or a schema made by someone else) is
    created once through ``on_missing_volume`` (``CREATE VOLUME IF NOT EXISTS``) and the write tried again."""

    def __init__(self, files: Any, root: str, on_missing_volume: Callable[[], None] | None = None):
        self.files = files
        self.root = root.rstrip("/")
        self.location = self.root
        self._on_missing_volume = on_missing_volume
        self._folders: set[str] = set()

    def names(self, folder: str) -> list[str]:
        from databricks.sdk.errors import NotFound

        try:
            entries = list(self.files.list_directory_contents(f"{self.root}/{folder}"))
        except NotFound:
            return []
        return sorted(n for n in ((e.name or (e.path or "").rstrip("/").rsplit("/", 1)[-1]) for e in entries
                                  if not e.is_directory) if n and not n.startswith("."))

    def write(self, name: str, data: bytes) -> None:
        from databricks.sdk.errors import NotFound

        try:
            self._write(name, data)
        except NotFound:
            if self._on_missing_volume is None:
                raise
            self._on_missing_volume()
            self._folders.clear()
            self._write(name, data)

    def _write(self, name: str, data: bytes) -> None:
        from databricks.sdk.errors import AlreadyExists, ResourceConflict

        folder = name.rsplit("/", 1)[0] if "/" in name else ""
        if folder and folder not in self._folders:
            self.files.create_directory(f"{self.root}/{folder}")
            self._folders.add(folder)
        with contextlib.suppress(AlreadyExists, ResourceConflict):  # another run wrote it meanwhile: same content
            self.files.upload(f"{self.root}/{name}", io.BytesIO(data), overwrite=False)

    def read(self, name: str) -> bytes:
        return self.files.download(f"{self.root}/{name}").contents.read()


def store_for(wh: Warehouse, data_dir: str | Path | None = None) -> BackupStore:
    """Where backups go for this warehouse: the volume on Databricks, else ``data_dir`` (the DuckDB file's folder)."""
    from ..warehouse.databricks_backend import DatabricksWarehouse
    from ..warehouse.duckdb_backend import DuckDBWarehouse

    if isinstance(wh, DatabricksWarehouse):
        return VolumeStore(wh.client.files, f"{wh.volume_path}/{FOLDER}", wh.create_volume)
    if data_dir is None:
        if not isinstance(wh, DuckDBWarehouse) or wh.path == ":memory:":
            raise BackupError("no folder for backups: give the data folder")
        data_dir = Path(wh.path).resolve().parent
    return LocalStore(Path(data_dir) / FOLDER)


def folder_of(workspace_id: str, space_id: str, option: str = "space") -> str:
    """``<workspace_id>/<space_id>``, each checked to be one plain path segment (never ``..`` or a ``/``)."""
    for what, value in (("workspace", workspace_id), (option, space_id)):
        if not isinstance(value, str) or not ID_RE.match(value):
            error = BadOption if what.startswith("--") else BackupError
            raise error(f"{what} {value!r} is not an id (letters, digits, '-' and '_')")
    return f"{workspace_id}/{space_id}"


def file_name(workspace_id: str, space_id: str, hash_: str) -> str:
    if not HASH_RE.match(hash_ or ""):
        raise BackupError(f"config hash {hash_!r} is not hex")
    return f"{folder_of(workspace_id, space_id)}/{hash_}.json"


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.timezone.utc) if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def document(row: dict[str, Any]) -> dict[str, Any]:
    """The backup file's content for one history row."""
    raw = row.get("serialized_space")
    try:
        serialized: Any = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        serialized = raw  # kept as text: a backup never loses what was seen
    return {
        "format": FORMAT, "format_version": 1,
        "workspace_id": row["workspace_id"], "space_id": row["space_id"], "config_hash": row["config_hash"],
        "title": row.get("title"), "description": row.get("description"), "warehouse_id": row.get("warehouse_id"),
        "serialized_space": serialized, "update_time": _iso(row.get("update_time")),
        "first_seen_at": _iso(row.get("first_seen_at")), "last_seen_at": _iso(row.get("last_seen_at")),
    }


def serialized_text(doc: dict[str, Any]) -> str | None:
    value = doc.get("serialized_space")
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def doc_hash(doc: dict[str, Any]) -> str:
    """The content hash of a backup, computed as the space refresh computes it."""
    return config_hash({"title": doc.get("title"), "description": doc.get("description"),
                        "warehouse_id": doc.get("warehouse_id"), "serialized_space": serialized_text(doc)})


@dataclass
class BackupResult:
    versions: int      # distinct versions in the history
    written: int       # files written by this call
    location: str


def history_rows(wh: Warehouse, workspace_id: str = "") -> list[dict[str, Any]]:
    return wh.query("lifecycle/spaces/config_history", {"workspace_id": workspace_id}).to_pylist()


def write_backups(rows: list[dict[str, Any]], store: BackupStore) -> BackupResult:
    """One file per distinct (workspace, space, config_hash) not written yet."""
    existing: dict[str, set[str]] = {}
    written = 0
    for row in rows:
        path = file_name(row["workspace_id"], row["space_id"], row["config_hash"])
        folder, name = path.rsplit("/", 1)
        if folder not in existing:
            existing[folder] = set(store.names(folder))
        if name in existing[folder]:
            continue
        store.write(path, (json.dumps(document(row), indent=2, sort_keys=True) + "\n").encode())
        existing[folder].add(name)
        written += 1
    return BackupResult(len(rows), written, store.location)


def load_backup(store: BackupStore | None, workspace_id: str, space_id: str, version: str) -> dict[str, Any]:
    """The backup named by ``version``: a config hash (or a unique prefix of at least 6 characters) of that space
    in ``store``, or the path of a backup file. Refused unless it is a backup of this format version, of that space
    of that workspace, whose content hash is its ``config_hash`` (and its file name's, when the name is a hash)."""
    if HASH_RE.match(version):
        if store is None:
            raise BadOption(f"--version {version}: no backup store to look in")
        folder = folder_of(workspace_id, space_id, "--space")
        matches = [n for n in store.names(folder) if n.endswith(".json") and n.startswith(version)]
        if not matches:
            raise BadOption(f"--version {version}: no backup of space {space_id} of workspace {workspace_id} "
                            f"with that config hash in {store.location}")
        if len(matches) > 1:
            raise BadOption(f"--version {version}: matches {len(matches)} backups; give more of the hash")
        name = f"{folder}/{matches[0]}"
        bad: type[BackupError] = BackupError  # a file of the store that is wrong: a failure, not an option
        try:
            raw = store.read(name)
        except OSError as exc:
            raise BackupError(f"--version {version}: cannot read {name} in {store.location}: {exc}") from None
        named = matches[0][: -len(".json")]
    else:
        path, bad = Path(version), BadOption
        if not path.is_file():
            raise BadOption(f"--version {version!r}: neither a config hash (6 to 64 lowercase hex characters) nor a "
                            "backup file")
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise BadOption(f"--version {version!r}: cannot read the file: {exc.strerror or exc}") from None
        named = path.stem if FULL_HASH_RE.match(path.stem) else None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise bad(f"--version {version}: the backup is not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise bad(f"--version {version}: not a genie-obs space backup file")
    if doc.get("format_version") != 1 or isinstance(doc.get("format_version"), bool):
        raise bad(f"--version {version}: backup format_version {doc.get('format_version')!r} is not supported "
                  "(this version reads format_version 1)")
    problems = [f"{k} is not text" for k in ("title", "description", "warehouse_id")
                if doc.get(k) is not None and not isinstance(doc[k], str)]
    if doc.get("serialized_space") is not None and not isinstance(doc["serialized_space"], (dict, str)):
        problems.append("serialized_space is neither a JSON object nor text")
    if problems:
        raise bad(f"--version {version}: not a usable backup: {'; '.join(problems)}")
    try:
        content_hash = doc_hash(doc)
    except RecursionError:
        raise bad(f"--version {version}: not a usable backup: serialized_space is nested too deeply") from None
    if content_hash != doc.get("config_hash"):
        raise bad(f"--version {version}: the file's content does not match its config_hash (edited?)")
    if named is not None and named != doc["config_hash"]:
        raise bad(f"--version {version}: the file is named {named[:12]}… but holds configuration "
                  f"{doc['config_hash'][:12]}… (renamed or copied over?)")
    if doc.get("workspace_id") != workspace_id:
        raise bad(f"--version {version}: a backup of a space of workspace {doc.get('workspace_id')}, not of "
                  f"--workspace {workspace_id} (across workspaces: genie-obs spaces promote)")
    if doc.get("space_id") != space_id:
        raise bad(f"--version {version}: a backup of space {doc.get('space_id')}, not of {space_id} (to restore "
                  "another space's backup, give it as --from-space)")
    return doc


@dataclass
class RestoreResult:
    space_id: str
    config_hash: str
    changed: bool        # False: the space already had this configuration
    etag: str | None


def restore(client: GenieClient, space_id: str, doc: dict[str, Any], *, force: bool = False,
            expected_etag: str | None = None) -> RestoreResult:
    """Put the backup's configuration (title, description, warehouse, serialized_space) into ``space_id``."""
    current = _read(client, space_id)
    etag = current.get("etag")
    if not isinstance(etag, str) or not etag:
        if not force:
            raise BackupError(f"space {space_id}: the workspace's answer has no etag, so a change made meanwhile "
                              "could not be detected: refused; --force to restore without one")
        current["etag"] = None
    elif expected_etag and etag != expected_etag and not force:
        raise BackupError(f"space {space_id} changed since etag {expected_etag} (now {etag}); "
                          "--force to overwrite it")
    if _hash(current) == doc["config_hash"]:
        return RestoreResult(space_id, doc["config_hash"], False, current.get("etag"))
    fields = {"title": doc.get("title"), "description": doc.get("description"),
              "warehouse_id": doc.get("warehouse_id"), "serialized_space": serialized_text(doc)}
    try:
        client.update_space(space_id, etag=current.get("etag"), **fields)
    except E.GenieApiError as exc:
        conflict = exc.http_status in (409, 412) or exc.error_code in ("ABORTED", "FAILED_PRECONDITION")
        if not (conflict and force):
            why = "it changed while restoring (stale etag); --force to overwrite" if conflict else str(exc)
            raise BackupError(f"restoring space {space_id}: {why}") from None
        fresh = _read(client, space_id)
        try:
            client.update_space(space_id, etag=fresh.get("etag"), **fields)
        except E.GenieApiError as again:
            raise BackupError(f"restoring space {space_id}: {again}") from None
    try:
        back = _read(client, space_id)
    except BackupError as exc:
        raise BackupError(f"space {space_id} was updated, but reading it back failed: {exc}") from None
    if _hash(back) != doc["config_hash"]:
        raise BackupError(f"space {space_id} was updated but reads back as another configuration "
                          f"({_hash(back)[:12]}, not {doc['config_hash'][:12]})")
    return RestoreResult(space_id, doc["config_hash"], True, back.get("etag"))


def _read(client: GenieClient, space_id: str) -> dict[str, Any]:
    """The space as the workspace answers it, its ``serialized_space`` checked to be text (what is hashed)."""
    try:
        space = client.get_space(space_id, include_serialized_space=True)
    except E.GenieApiError as exc:
        if exc.error_type == E.BAD_REQUEST and exc.http_status is None:
            raise BadOption(f"--space {space_id!r}: {exc.message}") from None
        if exc.error_type == E.NOT_FOUND:
            raise BadOption(f"--space {space_id}: no such space in workspace {client.workspace_id} (or it is in the "
                            "trash)") from None
        raise BackupError(f"cannot read space {space_id} (--space): {exc}") from None
    if space.get("serialized_space") is not None and not isinstance(space["serialized_space"], str):
        raise BackupError(f"space {space_id}: the workspace answered a serialized_space that is not JSON text "
                          f"({type(space['serialized_space']).__name__}); nothing restored")
    return space


def _hash(space: dict[str, Any]) -> str:
    try:
        return config_hash(space)
    except RecursionError:
        raise BackupError(f"space {space.get('space_id')}: the workspace answered a serialized_space nested too deeply "
                          "to read; nothing restored") from None


def iter_docs(store: BackupStore, workspace_id: str, space_id: str) -> Iterator[dict[str, Any]]:
    folder = folder_of(workspace_id, space_id)
    for name in store.names(folder):
        if name.endswith(".json"):
            yield json.loads(store.read(f"{folder}/{name}"))
