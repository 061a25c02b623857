"""Route table types shared by the OAuth, Genie, SQL and Files handlers.

A route names its ``kind`` (the unit faults are aimed at and statistics are counted by) and the
``aibiGenie`` audit action a real workspace logs for it (``None`` when it logs none). ``locked`` routes run
under the scenario lock shared by every workspace; routes that wait or do slow work of their own (SQL
statements, file transfers) set ``locked=False`` and guard their own state, so one slow statement never
stalls the Genie API of every workspace.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .config import Principal
from .protocol import Request, Response

if TYPE_CHECKING:
    from .app import WorkspaceApp


@dataclass
class Call:
    """One request being served: what the handler reads, and what the audit row will carry."""

    request: Request
    path: dict[str, str]
    app: WorkspaceApp
    now: dt.datetime
    principal: Principal | None = None
    audit_params: dict[str, str] = field(default_factory=dict)

    @property
    def caller(self) -> Principal:
        assert self.principal is not None, "route requires authentication"
        return self.principal


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    kind: str
    handler: Handler
    action: str | None = None
    authenticated: bool = True
    locked: bool = True


def route(method: str, template: str, kind: str, handler: Handler, action: str | None = None,
          authenticated: bool = True, locked: bool = True) -> Route:
    """``template`` uses ``{name}`` for one path segment, e.g. ``/spaces/{space_id}``, and ``{name:path}``
    for the rest of the path from its leading ``/`` (the Files API's ``/fs/files{file_path}``)."""
    regex = re.sub(r"\{(\w+):path\}", r"(?P<\1>/.*?)", template)
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
    return Route(method, re.compile(f"^{regex}/?$"), kind, handler, action, authenticated, locked)


def match(routes: Sequence[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for r in routes:
        if r.method == method:
            found = r.pattern.match(path)
            if found:
                return r, found.groupdict()
    return None
