"""The Files API on Unity Catalog volumes, as databricks-sdk 0.60 ``w.files`` calls it
(databricks-backend.md §3; SDK 0.60 ``service/files.py`` ``FilesAPI``).

``/api/2.0/fs/files{path}``: PUT (raw body, ``overwrite`` default true; false and the file exists -> 409
``ALREADY_EXISTS``; missing parent folders are created), GET (raw bytes), HEAD (metadata headers only), DELETE.
``/api/2.0/fs/directories{path}``: PUT (``mkdir -p``, idempotent), HEAD, DELETE (empty directories only), GET
(listing: ``contents[]`` of ``{path, is_directory, file_size, last_modified, name}``, ``page_size`` default and
max 1000, ``next_page_token``). Paths arrive URL-escaped (the SDK quotes the whole path, keeping ``/``).

Order of checks: malformed path -> 400, missing volume -> 404, privilege (READ VOLUME for GET/HEAD/list,
WRITE VOLUME for PUT/DELETE on ``catalog.schema.volume``) -> 403, then the object itself. Files are written to
a temporary name and renamed, so a concurrent reader (``read_files`` in the SQL engine) never sees half a file.
These routes run outside the scenario lock: uploads can be large, and the volume store guards itself.
"""

from __future__ import annotations

import contextlib
import email.utils
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .paging import paginate
from .protocol import ApiError, Response, denied, invalid, json_response
from .routing import Call, Route, route
from .volumes import VolumePathError, VolumeStore

FILES = "/api/2.0/fs/files{path:path}"
DIRS = "/api/2.0/fs/directories{path:path}"
MAX_PAGE = 1000
_TEMP_PREFIX = "."  # volume path segments cannot start with a dot, so temporary files never clash or list


def _not_found(message: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def _exists(message: str) -> ApiError:
    return ApiError(409, "ALREADY_EXISTS", message)


def _resolve(call: Call, privilege: str) -> tuple[str, Path]:
    """The unescaped volume path and its local file, after the path, volume and privilege checks."""
    segments = [unquote(s) for s in call.path["path"].split("/")]
    if any("/" in s for s in segments):
        raise invalid("A path segment cannot contain an escaped '/'")
    volume_path = "/".join(segments).rstrip("/") or "/"
    volumes: VolumeStore = call.app.warehouse.volumes
    try:
        key, _ = volumes.split(volume_path)
        local = volumes.local_path(volume_path)
    except VolumePathError as e:
        if e.missing:
            raise _not_found(f"{e} (path {volume_path})") from None
        raise invalid(str(e)) from None
    securable = ".".join(key)
    if not call.app.warehouse.config.grants.allows(privilege, securable):
        raise denied(f"User {call.caller.identity} does not have {privilege} on Volume '{securable}'.")
    return volume_path, local


def _http_date(path: Path) -> str:
    return email.utils.formatdate(path.stat().st_mtime, usegmt=True)


def _existing(call: Call, privilege: str, kind: str) -> tuple[str, Path]:
    """A file (``kind="file"``) or directory that must exist, with the privilege checked first."""
    volume_path, local = _resolve(call, privilege)
    if not (local.is_file() if kind == "file" else local.is_dir()):
        raise _not_found(f"The {kind} being accessed is not found: {volume_path}")
    return volume_path, local


def _file(call: Call, privilege: str) -> tuple[str, Path]:
    return _existing(call, privilege, "file")


# -- files -------------------------------------------------------------------------------------------------
def upload(call: Call) -> Response:
    volume_path, local = _resolve(call, "WRITE VOLUME")
    overwrite = call.request.bool_param("overwrite", default=True)
    if local.is_dir():
        raise _exists(f"A directory already exists at {volume_path}")
    if local.exists() and not overwrite:
        raise _exists(f"The file being created already exists: {volume_path}")
    try:
        local.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise _exists(f"A parent of {volume_path} is a file, not a directory") from None
    temp = local.parent / f"{_TEMP_PREFIX}{local.name}.{secrets.token_hex(6)}.upload"
    temp.write_bytes(call.request.body)
    os.replace(temp, local)
    return Response(204)


def download(call: Call) -> Response:
    _, local = _file(call, "READ VOLUME")
    return Response(200, local.read_bytes(), {"Content-Type": "application/octet-stream",
                                              "Last-Modified": _http_date(local)})


def file_metadata(call: Call) -> Response:
    _, local = _file(call, "READ VOLUME")
    return Response(200, b"", {"Content-Type": "application/octet-stream", "Content-Length": str(local.stat().st_size),
                               "Last-Modified": _http_date(local)})


def delete_file(call: Call) -> Response:
    _, local = _file(call, "WRITE VOLUME")
    with contextlib.suppress(FileNotFoundError):  # deleted by a concurrent request: the end state is the same
        local.unlink()
    return Response(204)


# -- directories ---------------------------------------------------------------------------------------------
def _directory(call: Call, privilege: str) -> tuple[str, Path]:
    return _existing(call, privilege, "directory")


def create_directory(call: Call) -> Response:
    volume_path, local = _resolve(call, "WRITE VOLUME")
    try:
        local.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise _exists(f"A file already exists at {volume_path} or one of its parents") from None
    return json_response({})


def directory_metadata(call: Call) -> Response:
    _directory(call, "READ VOLUME")
    return Response(200)


def delete_directory(call: Call) -> Response:
    volume_path, local = _directory(call, "WRITE VOLUME")
    if len(volume_path.strip("/").split("/")) <= 4:
        raise invalid(f"{volume_path} is the root of a volume; drop the volume with DROP VOLUME instead")
    if any(not p.name.startswith(_TEMP_PREFIX) for p in local.iterdir()):
        # [U] status and code not confirmed; the docs only say "Deletes an empty directory" (SDK 0.60).
        raise ApiError(409, "DIRECTORY_NOT_EMPTY", f"The directory {volume_path} is not empty. Delete its "
                                                   "contents first.")
    with contextlib.suppress(OSError):
        local.rmdir()
    return json_response({})


def _entry(volume_path: str, child: Path) -> dict[str, Any]:
    path = f"{volume_path.rstrip('/')}/{child.name}"
    if child.is_dir():
        return {"path": path, "is_directory": True, "name": child.name}
    stat = child.stat()
    return {"path": path, "is_directory": False, "file_size": stat.st_size,
            "last_modified": int(stat.st_mtime * 1000), "name": child.name}


def list_directory(call: Call) -> Response:
    volume_path, local = _directory(call, "READ VOLUME")
    requested = call.request.int_param("page_size")
    if requested is not None and requested < 0:
        raise invalid(f"page_size must be positive, got {requested}")
    size = min(requested or MAX_PAGE, MAX_PAGE)  # "Values above 1000 will be coerced to 1000" (SDK 0.60)
    children = [p for p in local.iterdir() if not p.name.startswith(_TEMP_PREFIX)]
    page, token = paginate(children, lambda p: (p.name,), size, call.request.query.get("page_token"))
    out: dict[str, Any] = {"contents": [_entry(volume_path, p) for p in page if p.exists()]}
    if token:
        out["next_page_token"] = token
    return json_response(out)


ROUTES: tuple[Route, ...] = (
    route("PUT", FILES, "files_upload", upload, locked=False),
    route("GET", FILES, "files_download", download, locked=False),
    route("HEAD", FILES, "files_metadata", file_metadata, locked=False),
    route("DELETE", FILES, "files_delete", delete_file, locked=False),
    route("PUT", DIRS, "directories_create", create_directory, locked=False),
    route("GET", DIRS, "directories_list", list_directory, locked=False),
    route("HEAD", DIRS, "directories_metadata", directory_metadata, locked=False),
    route("DELETE", DIRS, "directories_delete", delete_directory, locked=False),
)
