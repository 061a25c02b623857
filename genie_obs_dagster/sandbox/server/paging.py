"""Keyset pagination with opaque page tokens (``page_size`` / ``page_token`` / ``next_page_token``).

The token encodes the sort key of the last item returned, not an offset, so objects created while a
client pages (new conversations appear all the time) neither repeat nor get skipped. ``next_page_token``
is only present when another page exists.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .protocol import invalid

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _encode(key: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _decode(token: str) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw)
    except ValueError:
        raise invalid(f"Invalid page_token: {token!r}") from None
    if not isinstance(value, list):
        raise invalid(f"Invalid page_token: {token!r}")
    return tuple(value)


def page_size(requested: int | None, *, strict_max: bool) -> int:
    """Default 20, max 100. Over the max is an error where documented (conversations), else clamped."""
    if requested is None or requested == 0:
        return DEFAULT_PAGE_SIZE
    if requested < 0:
        raise invalid(f"page_size must be positive, got {requested}")
    if requested > MAX_PAGE_SIZE:
        if strict_max:
            raise invalid(f"page_size must be at most {MAX_PAGE_SIZE}, got {requested}")
        return MAX_PAGE_SIZE
    return requested


def paginate(items: Sequence[T], key: Callable[[T], tuple[Any, ...]], size: int, token: str | None) -> tuple[list[T], str | None]:
    """One page of ``items`` ordered by ``key``, and the token of the next page (or ``None``)."""
    ordered = sorted(items, key=key)
    if token:
        after = _decode(token)
        try:
            ordered = [i for i in ordered if key(i) > after]
        except TypeError:
            raise invalid(f"Invalid page_token: {token!r}") from None
    page = ordered[:size]
    return page, (_encode(key(page[-1])) if len(ordered) > size else None)
