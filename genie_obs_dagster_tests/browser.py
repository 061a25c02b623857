"""Headless Chromium for the dashboard tests.

Two ways in: ``dump_dom`` / ``screenshot`` run Chromium once per page (the DOM after the page's script ran), and
``Browser`` drives one Chromium session through Playwright, the way a user does (type, choose, click, download),
for ``test_dashboard_browser.py``. Playwright talks to Debian's ``/usr/bin/chromium`` (``make browser``); it never
downloads a browser. Without Chromium or Playwright the tests that need them are skipped and say why.

Screenshots go to ``$GENIE_OBS_SCREENSHOTS`` if set, else ``artifacts/screenshots/`` at the repository root.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

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


# -- one Chromium session driven through Playwright -------------------------------------------------------------

SCREENSHOTS = Path(os.environ.get("GENIE_OBS_SCREENSHOTS") or Path(__file__).resolve().parents[1] / "artifacts" / "screenshots")
PLAYWRIGHT_FLAGS = [f for f in FLAGS if f not in ("--headless", "--virtual-time-budget=10000")]
WAIT_MS = 60_000  # a safety limit for DOM conditions, never a timing assertion


class Browser:
    """One headless Chromium (a fresh profile) and one tab, for a test module. ``errors`` collects every script
    error and console error of the session."""

    def __init__(self, chromium: str) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            pytest.skip("Playwright is not installed: make install (pip install -e '.[dev]')")
        self.errors: list[str] = []
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-")
        self._pw = sync_playwright().start()
        self.context = self._pw.chromium.launch_persistent_context(
            self._profile.name, executable_path=chromium, headless=True, args=PLAYWRIGHT_FLAGS,
            viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.watch(self.page)

    def watch(self, page: Any) -> None:
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)

    def close(self) -> None:
        self.context.close()
        self._pw.stop()
        self._profile.cleanup()

    # -- navigation and waiting -----------------------------------------------------------------------------

    def open(self, path: Path, fragment: str, page: Any = None) -> None:
        """Load the page at ``#fragment`` (a fresh load when the file changes, else a same-page navigation) and
        wait until that view is drawn."""
        page = page or self.page
        page.goto(f"{path.as_uri()}#{fragment}")
        self.wait_drawn(f"#{fragment}", page)

    def wait_drawn(self, view: str | None = None, page: Any = None) -> None:
        """Wait until the page has drawn (``data-rendered`` ok or errors) the view ``view`` (its URL fragment)."""
        (page or self.page).wait_for_function(
            """view => { const r = document.documentElement.dataset;
                         return (r.rendered === "ok" || r.rendered === "errors") && (view === null || r.view === view); }""",
            arg=view, timeout=WAIT_MS)

    def wait_for(self, js: str, arg: Any = None) -> Any:
        return self.page.wait_for_function(js, arg=arg, timeout=WAIT_MS).json_value()

    def after(self, action: Any) -> None:
        """Do ``action`` (a click, a choice) and wait until the page has drawn the view it leads to."""
        before = self.page.evaluate("location.hash + '|' + (document.documentElement.dataset.view || '')")
        action()
        self.page.wait_for_function(
            """before => { const r = document.documentElement.dataset;
                           return location.hash + '|' + r.view !== before && r.view === location.hash
                                  && (r.rendered === "ok" || r.rendered === "errors"); }""",
            arg=before, timeout=WAIT_MS)

    # -- reading ---------------------------------------------------------------------------------------------

    def kpis(self) -> dict[str, tuple[float | None, float | None]]:
        """Every KPI card shown: id -> (value, value of the previous period); None when it shows none."""
        raw = self.page.evaluate("""Array.from(document.querySelectorAll('[data-kpi]'))
            .map(e => [e.dataset.kpi, e.dataset.value, e.dataset.prev])""")
        return {k: (float(v) if v else None, float(p) if p else None) for k, v, p in raw}

    def table(self, table_id: str) -> dict[str, Any]:
        """A table as shown: its headers, its rows (cell texts) and how many rows it has in all."""
        return self.page.evaluate("""id => { const t = document.querySelector(`table[data-table="${id}"]`);
            if (!t) return null;
            return { headers: Array.from(t.querySelectorAll('thead th')).map(th => th.textContent.trim()),
                     rows: Array.from(t.querySelectorAll('tbody tr')).map(tr => Array.from(tr.children).map(td => td.textContent.trim())),
                     total: Number(t.dataset.total) }; }""", table_id)

    def download_csv(self, table_id: str) -> list[list[str]]:
        """Click the table's CSV button and read the file it downloads."""
        with self.page.expect_download(timeout=WAIT_MS) as done:
            self.page.click(f'button[data-csv="{table_id}"]')
        text = Path(done.value.path()).read_text(encoding="utf-8")
        return list(csv.reader(io.StringIO(text)))

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        out = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(out), full_page=full_page)
        return out
