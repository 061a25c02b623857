"""Transport-neutral request, response and error types of the simulated workspace.

The HTTP layer turns sockets into :class:`Request` objects and writes :class:`Response` objects back;
everything in between is plain functions, so the behaviour can be tested without a socket and the
socket layer stays small.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # case-insensitive mapping (http.client.HTTPMessage)
    body: bytes
    client_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def json_body(self) -> dict[str, Any]:
        """The JSON object sent as body; Databricks rejects bodies that are not a JSON object."""
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - failed to parse") from None
        if not isinstance(value, dict):
            raise ApiError(400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - expected a map")
        return value

    def bool_param(self, name: str, default: bool = False) -> bool:
        """Query-string booleans as the SDK sends them (lowercase ``true`` / ``false``)."""
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid value for parameter {name}: {raw!r} is not a boolean")

    def int_param(self, name: str) -> int | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid value for parameter {name}: {raw!r} is not an integer") from None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Transport fault applied while writing: "drop" (close without answer), "short_read" (close mid-body).
    transport: str | None = None
    delay_s: float = 0.0  # extra wait before answering (the "timeout" fault)


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})


class ApiError(Exception):
    """An error answer. ``body`` overrides the standard Databricks error shape (OAuth and SCIM differ)."""

    def __init__(self, status: int, error_code: str, message: str, *, headers: Mapping[str, str] | None = None,
                 body: dict[str, Any] | None = None):
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = dict(headers or {})
        self.body = body

    @property
    def audit_message(self) -> str:
        return f"{self.error_code}: {self.message}"

    def to_response(self, request_id: str) -> Response:
        """The Databricks REST error body: ``error_code``, ``message`` and a RequestInfo detail."""
        payload = self.body if self.body is not None else {
            "error_code": self.error_code,
            "message": self.message,
            "details": [{"@type": "type.googleapis.com/google.rpc.RequestInfo", "request_id": request_id, "serving_data": ""}],
        }
        return json_response(payload, self.status, self.headers)


def not_found(message: str) -> ApiError:
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", message)


def invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def denied(message: str) -> ApiError:
    return ApiError(403, "PERMISSION_DENIED", message)


def throttled(message: str, retry_after_s: int) -> ApiError:
    return ApiError(429, "REQUEST_LIMIT_EXCEEDED", message, headers={"Retry-After": str(max(1, retry_after_s))})
