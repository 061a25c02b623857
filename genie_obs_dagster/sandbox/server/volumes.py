"""Unity Catalog volumes of the simulated workspace, stored in a local folder.

A volume path is ``/Volumes/<catalog>/<schema>/<volume>/<path...>``. The Files API (``files_api.py``) reads
and writes them; ``read_files`` in the SQL engine reads them. Volumes are created by ``CREATE VOLUME``.
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.=\-]*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class VolumePathError(ValueError):
    """A path that is not inside an existing volume, or not a well-formed volume path."""

    def __init__(self, message: str, *, missing: bool = False):
        super().__init__(message)
        self.missing = missing  # the volume does not exist (404) rather than a malformed path (400)


class VolumeStore:
    """Volumes as folders under ``root/catalog/schema/volume``."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._volumes: set[tuple[str, str, str]] = set()

    def create_volume(self, catalog: str, schema: str, volume: str) -> bool:
        """Create a volume; False when it already existed."""
        key = (catalog.lower(), schema.lower(), volume.lower())
        for part in key:
            if not _NAME.match(part):
                raise VolumePathError(f"invalid volume name part {part!r}")
        with self._lock:
            if key in self._volumes:
                return False
            self._volumes.add(key)
        (self.root.joinpath(*key)).mkdir(parents=True, exist_ok=True)
        return True

    def volume_exists(self, catalog: str, schema: str, volume: str) -> bool:
        with self._lock:
            return (catalog.lower(), schema.lower(), volume.lower()) in self._volumes

    def split(self, volume_path: str) -> tuple[tuple[str, str, str], tuple[str, ...]]:
        """``/Volumes/c/s/v/a/b`` -> ((c, s, v), (a, b)); raises :class:`VolumePathError`."""
        parts = volume_path.rstrip("/").split("/")
        if len(parts) < 5 or parts[0] != "" or parts[1] != "Volumes":
            raise VolumePathError(f"{volume_path!r} is not a volume path /Volumes/<catalog>/<schema>/<volume>/...")
        key = (parts[2].lower(), parts[3].lower(), parts[4].lower())
        rest = tuple(parts[5:])
        for seg in rest:
            if seg in ("", ".", "..") or not _SEGMENT.match(seg):
                raise VolumePathError(f"{volume_path!r}: path segment {seg!r} is not allowed")
        if not self.volume_exists(*key):
            raise VolumePathError(f"volume {'.'.join(key)} does not exist", missing=True)
        return key, rest

    def local_path(self, volume_path: str) -> Path:
        """The local file or folder behind a path inside an existing volume."""
        key, rest = self.split(volume_path)
        return self.root.joinpath(*key, *rest)

    def drop_all(self) -> None:
        with self._lock:
            self._volumes.clear()
        shutil.rmtree(self.root, ignore_errors=True)
