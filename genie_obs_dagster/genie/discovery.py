"""Cross-check of the audit log: list every conversation of every space (``include_all=true``) and its
messages, to find messages the audit log never showed (e.g. API clients that never polled)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

from ..warehouse import Warehouse
from .client import GenieClient
from .ingest import write_outcomes
from .rows import FetchOutcome, MessageRef

UTC = dt.timezone.utc
_S = pa.string()
API_MESSAGE_SCHEMA = pa.schema([
    ("workspace_id", _S), ("message_id", _S), ("space_id", _S), ("conversation_id", _S), ("created_date", pa.date32()),
    ("created_timestamp", pa.int64()), ("user_id", pa.int64()), ("status", _S),
    ("listed_at", pa.timestamp("us", tz="UTC")),
])


def listed_messages(client: GenieClient, allowed_spaces: set[str]) -> Iterator[dict]:
    """Every message of every (allowed) space, conversations listed concurrently within the budget."""
    spaces = [s["space_id"] for s in client.list_spaces() if not allowed_spaces or s["space_id"] in allowed_spaces]
    with ThreadPoolExecutor(max_workers=client.settings.concurrency) as pool:
        for space_id in spaces:
            conversations = [c["conversation_id"] for c in client.list_conversations(space_id, include_all=True)]
            for messages in pool.map(lambda cid, sid=space_id: list(client.list_conversation_messages(sid, cid)),
                                     conversations):
                yield from messages


def _created_date(m: dict) -> dt.date | None:
    ts = m.get("created_timestamp")
    return dt.datetime.fromtimestamp(int(ts) / 1000, UTC).date() if ts else None


def discover(wh: Warehouse, client: GenieClient, allowed_spaces: set[str], spaces_param: str,
             progress: Callable[[str], None], batch_size: int = 1000) -> dict[str, int]:
    """Record what the API lists; store messages the audit log missed as ``discovered_via = 'api'``."""
    now = dt.datetime.now(UTC)
    listed = 0
    by_key: dict[str, dict] = {}
    it = listed_messages(client, allowed_spaces)
    while batch := list(itertools.islice(it, batch_size)):
        rows = [{"workspace_id": client.workspace_id, "message_id": m.get("message_id") or m.get("id"),
                 "space_id": m.get("space_id"), "conversation_id": m.get("conversation_id"),
                 "created_date": _created_date(m), "created_timestamp": m.get("created_timestamp"),
                 "user_id": m.get("user_id"), "status": m.get("status"), "listed_at": now} for m in batch]
        wh.execute("genie/merge_api_messages", staged={"__staged_api_messages": pa.Table.from_pylist(rows, API_MESSAGE_SCHEMA)})
        listed += len(rows)
        progress(f"workspace {client.workspace_id}: {listed} messages listed through the API")
        missing = {r["message_id"] for r in wh.query("genie/api_only_messages_to_store",
                                                     {"workspace_id": client.workspace_id, "space_ids": spaces_param}).to_pylist()}
        by_key.update({m["message_id"]: m for m in batch if m.get("message_id") in missing})
    outcomes = []
    for m in by_key.values():
        ref = MessageRef(client.workspace_id, m["space_id"], m["conversation_id"], m["message_id"],
                         _created_date(m) or now.date(), None, discovered_via="api")
        user = client.get_user(int(m["user_id"])) if m.get("user_id") else None
        outcomes.append(FetchOutcome(ref, now, 1, message=m, user=user))
    if outcomes:
        write_outcomes(wh, outcomes)
    return {"listed": listed, "stored_api_only": len(outcomes)}
