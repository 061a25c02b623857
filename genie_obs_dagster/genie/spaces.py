"""Shape GET-space results into rows of the space tables, with a content hash of the configuration."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from .errors import GenieApiError

_S, _TS = pa.string(), pa.timestamp("us", tz="UTC")
SPACE_SCHEMA = pa.schema([
    ("workspace_id", _S), ("space_id", _S), ("title", _S), ("description", _S), ("warehouse_id", _S),
    ("parent_path", _S), ("etag", _S), ("create_time", _TS), ("update_time", _TS), ("serialized_space", _S),
    ("config_hash", _S), ("first_fetched_at", _TS), ("fetched_at", _TS),
])
HISTORY_SCHEMA = pa.schema([
    ("workspace_id", _S), ("space_id", _S), ("config_hash", _S), ("title", _S), ("description", _S),
    ("warehouse_id", _S), ("serialized_space", _S), ("update_time", _TS), ("first_seen_at", _TS), ("last_seen_at", _TS),
])
SPACE_ERROR_SCHEMA = pa.schema([
    ("workspace_id", _S), ("space_id", _S), ("error_type", _S), ("http_status", pa.int32()), ("error_code", _S),
    ("error_message", _S), ("permanent", pa.bool_()), ("attempt_count", pa.int32()), ("first_attempt_at", _TS),
    ("last_attempt_at", _TS), ("resolved", pa.bool_()), ("resolved_at", _TS),
])


def parse_rfc3339(value: Any) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def config_hash(space: dict[str, Any]) -> str:
    """Stable hash of what a person configures: title, description, warehouse and serialized_space."""
    raw = space.get("serialized_space")
    try:
        serialized = json.loads(raw) if raw else None
    except (ValueError, RecursionError):  # not JSON (or too deep to read): hashed as the text it is
        serialized = raw
    canonical = json.dumps({"title": space.get("title"), "description": space.get("description"),
                            "warehouse_id": space.get("warehouse_id"), "serialized_space": serialized},
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def space_tables(workspace_id: str, fetched: Sequence[dict[str, Any]], failed: Sequence[tuple[str, GenieApiError]],
                 now: dt.datetime) -> tuple[pa.Table, pa.Table, pa.Table]:
    spaces, history = [], []
    for s in fetched:
        h = config_hash(s)
        common = {"workspace_id": workspace_id, "space_id": s["space_id"], "title": s.get("title"),
                  "description": s.get("description"), "warehouse_id": s.get("warehouse_id"),
                  "serialized_space": s.get("serialized_space"), "update_time": parse_rfc3339(s.get("update_time"))}
        spaces.append({**common, "parent_path": s.get("parent_path"), "etag": s.get("etag"),
                       "create_time": parse_rfc3339(s.get("create_time")), "config_hash": h,
                       "first_fetched_at": now, "fetched_at": now})
        history.append({**common, "config_hash": h, "first_seen_at": now, "last_seen_at": now})
    errors = [{"workspace_id": workspace_id, "space_id": sid, "error_type": e.error_type, "http_status": e.http_status,
               "error_code": e.error_code, "error_message": e.message[:1000], "permanent": e.permanent,
               "attempt_count": 1, "first_attempt_at": now, "last_attempt_at": now, "resolved": False,
               "resolved_at": None} for sid, e in failed]
    return (pa.Table.from_pylist(spaces, schema=SPACE_SCHEMA), pa.Table.from_pylist(history, schema=HISTORY_SCHEMA),
            pa.Table.from_pylist(errors, schema=SPACE_ERROR_SCHEMA))
