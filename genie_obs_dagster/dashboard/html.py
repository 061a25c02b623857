"""The local dashboard: one self-contained HTML file (data, styles and chart code inline; nothing fetched when
it is opened, so it works offline and can be mailed around). Charts are SVG drawn by a small script of our own
(``static/dashboard.js``) so that the workspace and date-range filters, the search and a space's page can redraw
them in the browser. The datasets are bounded and packed first (``pack.py``: columnar, long ranges in weeks, the
newest messages only, every table gzip-compressed), so that the page stays a few MB whatever the number of days,
spaces, workspaces and messages."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from . import pack

TITLE = "Genie observability"


def _static(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def _json_for_script(value: Any) -> str:
    """JSON that cannot end the <script> element it sits in, whatever the questions and SQL contain."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(datasets: Mapping[str, list[dict[str, Any]]], generated_at: dt.datetime, title: str = TITLE) -> str:
    payload = {"generated_at": generated_at.astimezone(dt.timezone.utc).isoformat(timespec="seconds"),
               **pack.pack(datasets)}
    parts = {"TITLE": html.escape(title), "CSS": _static("dashboard.css"), "DATA": _json_for_script(payload),
             "JS": _static("dashboard.js")}
    # one pass, so that text inside the data can never be taken for a placeholder
    return re.sub(r"\{\{(TITLE|CSS|DATA|JS)\}\}", lambda m: parts[m.group(1)], _static("template.html"))


def write(path: Path, datasets: Mapping[str, list[dict[str, Any]]], generated_at: dt.datetime) -> Path:
    """Write the page atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render(datasets, generated_at), encoding="utf-8")
    tmp.replace(path)
    return path
