"""The SQL Statement Execution API (genie-api.md §6; SDK 0.60 ``StatementExecutionAPI``) over the shared
:class:`~.warehouse.Warehouse`, plus the pre-signed "cloud storage" URLs of EXTERNAL_LINKS results.

Request checks follow the API reference: 404 for an unknown warehouse, 403 without CAN USE on it, 400
``INVALID_PARAMETER_VALUE`` for a bad body. These routes are not Genie actions (no ``aibiGenie`` audit row)
and run outside the scenario lock (``locked=False``): ``POST`` may wait up to 50 s for its statement.

Result links point at this same loopback server (``/sim-storage/<token>``) and behave like S3 pre-signed
URLs: no Databricks token needed; a request that *carries* an ``Authorization`` header is rejected with 400
(S3 refuses a second auth mechanism next to the URL's signature, which is what a client leaking its
Databricks token to storage runs into); an expired or unknown link gets 403.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .protocol import ApiError, Response, denied, invalid, json_response, not_found
from .routing import Call, Route, route
from .sql_format import CONTENT_TYPES
from .warehouse import Statement, Warehouse, new_statement_id

S = "/api/2.0/sql/statements"
STORAGE = "/sim-storage"
WAIT_TIMEOUT = re.compile(r"^(\d+)s$")
DISPOSITIONS = frozenset({"INLINE", "EXTERNAL_LINKS"})
FORMATS = frozenset({"JSON_ARRAY", "ARROW_STREAM", "CSV"})
ON_WAIT_TIMEOUT = frozenset({"CONTINUE", "CANCEL"})
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _warehouse(call: Call) -> Warehouse:
    return call.app.warehouse


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


# -- request checks ------------------------------------------------------------------------------------
def _opt_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid(f"{name} must be a string")
    return value or None


def _choice(body: dict[str, Any], name: str, allowed: frozenset[str], default: str) -> str:
    value = body.get(name)
    if value is None:
        return default
    if value not in allowed:
        raise invalid(f"Invalid {name}: {value!r}; expected one of {', '.join(sorted(allowed))}")
    return str(value)


def _limit(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"{name} must be a non-negative integer, got {value!r}")
    return value


def _wait_timeout(body: dict[str, Any]) -> int:
    raw = body.get("wait_timeout", "10s")
    found = WAIT_TIMEOUT.match(raw) if isinstance(raw, str) else None
    seconds = int(found.group(1)) if found else -1
    if seconds != 0 and not 5 <= seconds <= 50:
        raise invalid(f"Invalid wait_timeout {raw!r}: must be '0s' or between '5s' and '50s' (e.g. '10s').")
    return seconds


def _pairs(body: dict[str, Any], name: str, key: str, allowed: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    """``parameters`` ({name, value?, type?}) and ``query_tags`` ({key, value?}): lists of small objects."""
    raw = body.get(name) or []
    if not isinstance(raw, list):
        raise invalid(f"{name} must be a list")
    out, seen = [], set()
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get(key), str) or not item[key]:
            raise invalid(f"every element of {name} needs a non-empty string {key!r}")
        extra = set(item) - set(allowed)
        if extra:
            raise invalid(f"unknown field(s) {sorted(extra)} in {name}")
        for f in allowed[1:]:
            if item.get(f) is not None and not isinstance(item[f], str):
                raise invalid(f"{name}[].{f} must be a string (got {item[f]!r})")
        out.append({k: item[k] for k in allowed if item.get(k) is not None})
        seen.add(item[key])
    if name == "parameters":
        bad = [p["name"] for p in out if not _PARAM_NAME.match(p["name"])]
        if bad:
            raise invalid(f"Invalid parameter name(s) {bad}: parameter markers are :name with a SQL identifier")
        if len(seen) != len(out):
            raise invalid("parameters contains duplicate names")
    return tuple(out)


# -- answers ---------------------------------------------------------------------------------------------
def _chunk_json(call: Call, st: Statement, index: int) -> dict[str, Any]:
    """ResultData of one chunk: rows inline, or one pre-signed link to the chunk's file."""
    assert st.result is not None
    chunk = st.result.chunks[index]
    out: dict[str, Any] = {"chunk_index": chunk.chunk_index, "row_offset": chunk.row_offset,
                           "row_count": chunk.row_count}
    nxt: dict[str, Any] = {}
    if index + 1 < len(st.result.chunks):
        nxt = {"next_chunk_index": index + 1,
               "next_chunk_internal_link": f"{S}/{st.statement_id}/result/chunks/{index + 1}"}
    if st.result.disposition == "INLINE":
        return {**out, "data_array": chunk.rows, **nxt}
    token, expires = _warehouse(call).link(st, index)
    link = {**out, "byte_count": chunk.byte_count, "external_link": f"{_base_url(call)}{STORAGE}/{token}",
            "expiration": _iso(expires), **nxt}
    return {"external_links": [link]}


def _base_url(call: Call) -> str:
    host = call.request.header("Host")
    return f"http://{host}" if host else call.app.base_url


def statement_json(call: Call, st: Statement) -> dict[str, Any]:
    """StatementResponse: status always; manifest and the first chunk once SUCCEEDED."""
    status: dict[str, Any] = {"state": st.state}
    if st.state == "FAILED":
        if st.sql_state:
            status["sql_state"] = st.sql_state
        status["error"] = {"error_code": st.error_code or "UNKNOWN", "message": st.error_message or ""}
    out: dict[str, Any] = {"statement_id": st.statement_id, "status": status}
    if st.state == "SUCCEEDED" and st.result is not None:
        out["manifest"] = st.result.manifest()
        if st.result.chunks:
            out["result"] = _chunk_json(call, st, 0)
    return out


def _statement(call: Call) -> Statement:
    sid = call.path["statement_id"]
    st = _warehouse(call).get(sid, call.app.state.workspace.workspace_id)
    if st is None:
        raise not_found(f"Statement {sid} not found.")
    return st


# -- handlers --------------------------------------------------------------------------------------------
def execute(call: Call) -> Response:
    wh, cfg = _warehouse(call), _warehouse(call).config
    body = call.request.json_body()
    warehouse_id = body.get("warehouse_id")
    if not isinstance(warehouse_id, str) or not warehouse_id:
        raise invalid("warehouse_id is required")
    if warehouse_id not in cfg.warehouse_ids:
        raise not_found(f"SQL warehouse {warehouse_id} does not exist.")
    if not cfg.grants.allows("CAN USE", warehouse_id):
        raise denied(f"User {call.caller.identity} does not have CAN USE permission on SQL warehouse {warehouse_id}.")
    text = body.get("statement")
    if not isinstance(text, str) or not text.strip():
        raise invalid("statement is required and must be a non-empty string")
    if len(text.encode()) > cfg.statement_text_limit_bytes:
        raise invalid(f"statement is {len(text.encode())} bytes; the maximum query text size is "
                      f"{cfg.statement_text_limit_bytes} bytes")
    wait_s = _wait_timeout(body)
    on_timeout = _choice(body, "on_wait_timeout", ON_WAIT_TIMEOUT, "CONTINUE")
    disposition = _choice(body, "disposition", DISPOSITIONS, "INLINE")
    fmt = _choice(body, "format", FORMATS, "JSON_ARRAY")
    if disposition == "INLINE" and fmt != "JSON_ARRAY":
        raise invalid(f"format {fmt} is only supported with disposition EXTERNAL_LINKS; "
                      "INLINE results use format JSON_ARRAY")
    st = Statement(
        statement_id=new_statement_id(), workspace_id=call.app.state.workspace.workspace_id,
        principal=call.caller.identity, text=text,
        parameters=_pairs(body, "parameters", "name", ("name", "value", "type")),
        query_tags=_pairs(body, "query_tags", "key", ("key", "value")),
        catalog=_opt_str(body, "catalog"), schema=_opt_str(body, "schema"), disposition=disposition, format=fmt,
        row_limit=_limit(body, "row_limit"), byte_limit=_limit(body, "byte_limit"), submitted_at=call.now)
    wh.submit(st)
    if wait_s and not wh.wait(st, wait_s) and on_timeout == "CANCEL":
        wh.cancel(st)
    with wh.changed:  # one consistent snapshot of a statement that may still move on
        return json_response(statement_json(call, st))


def get_statement(call: Call) -> Response:
    st = _statement(call)
    with _warehouse(call).changed:
        return json_response(statement_json(call, st))


def get_chunk(call: Call) -> Response:
    st = _statement(call)
    raw = call.path["chunk_index"]
    if not raw.isdigit():
        raise invalid(f"Invalid chunk_index {raw!r}: expected a non-negative integer")
    index = int(raw)
    with _warehouse(call).changed:
        if st.state == "CLOSED":
            raise not_found(f"The result of statement {st.statement_id} is no longer available "
                            "(results are kept for a limited time after the statement succeeded).")
        if st.state != "SUCCEEDED" or st.result is None:
            raise ApiError(400, "INVALID_STATE", f"Statement {st.statement_id} is {st.state}; "
                                                 "result chunks exist only for SUCCEEDED statements.")
        if index >= len(st.result.chunks):
            raise invalid(f"chunk_index {index} is out of range: the result has {len(st.result.chunks)} chunk(s)")
        return json_response(_chunk_json(call, st, index))


def cancel(call: Call) -> Response:
    st = _statement(call)
    _warehouse(call).cancel(st)
    return json_response({})


def _storage_error(status: int, code: str, message: str) -> Response:
    """Cloud storage answers in its own XML, not Databricks' JSON."""
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(status, body.encode(), {"Content-Type": "application/xml"})


def storage(call: Call) -> Response:
    if call.request.header("Authorization"):
        return _storage_error(400, "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm "
                                                      "query parameter, Signature query string parameter or the "
                                                      "Authorization header should be specified")
    found = _warehouse(call).resolve(call.path["token"])
    if found is None:
        return _storage_error(403, "AccessDenied", "Access Denied")
    link, payload = found
    if call.now >= link.expires_at or payload is None:
        return _storage_error(403, "AccessDenied", "Request has expired")
    return Response(200, payload, {"Content-Type": CONTENT_TYPES[link.format]})


ROUTES: tuple[Route, ...] = (
    route("POST", S, "sql_execute", execute, locked=False),
    route("GET", S + "/{statement_id}", "sql_get", get_statement, locked=False),
    route("GET", S + "/{statement_id}/result/chunks/{chunk_index}", "sql_chunk", get_chunk, locked=False),
    route("POST", S + "/{statement_id}/cancel", "sql_cancel", cancel, locked=False),
    route("GET", STORAGE + "/{token}", "sql_external", storage, authenticated=False, locked=False),
)
