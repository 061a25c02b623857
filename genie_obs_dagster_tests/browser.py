"""Headless Chromium for the dashboard test: find it, dump the DOM after the page's script ran, screenshot."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL = "apt-get update && apt-get install -y chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--virtual-time-budget=10000")


def chromium_or_skip() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"no Chromium on PATH (tried {', '.join(CANDIDATES)}); install it with: {INSTALL}")


def _run(chromium: str, *args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        done = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                              timeout=120, check=False)
    if done.returncode != 0:
        raise AssertionError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


@dataclass
class Dom:
    """What the test reads from the rendered page."""

    root: dict[str, str] = field(default_factory=dict)
    charts_per_page: dict[str, int] = field(default_factory=dict)
    kpis: dict[str, float] = field(default_factory=dict)
    errors: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.dom = Dom()
        self.page: str | None = None
        self.in_errors = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.dom.root = a
        if "data-page" in a:
            self.page = a["data-page"]
            self.dom.charts_per_page.setdefault(self.page, 0)
        if tag == "svg" and "chart" in a.get("class", "").split() and self.page:
            self.dom.charts_per_page[self.page] += 1
        if "data-kpi" in a and a.get("data-value"):
            self.dom.kpis[a["data-kpi"]] = float(a["data-value"])
        self.in_errors = a.get("id") == "js-errors"

    def handle_data(self, data: str) -> None:
        if self.in_errors:
            self.dom.errors += data.strip()

    def handle_endtag(self, tag: str) -> None:
        self.in_errors = False


def dump_dom(chromium: str, page: Path, fragment: str) -> Dom:
    reader = _Reader()
    reader.feed(_run(chromium, "--dump-dom", f"{page.as_uri()}#{fragment}"))
    return reader.dom


def screenshot(chromium: str, page: Path, fragment: str, out: Path, height: int) -> Path:
    _run(chromium, f"--window-size=1400,{height}", f"--screenshot={out}", f"{page.as_uri()}#{fragment}")
    return out
