"""Size of the offline dashboard page and its time to first render in headless Chromium, before and after.

The dataset rows are synthesized at each scale (``genie_obs_dagster.dashboard.synthetic``: the shape
``datasets.load`` returns, realistic distributions; no ingestion), then the page is written twice:

* before: the page of git revision ``--before-rev`` (default ``HEAD``), written by that revision's ``pack.py`` and
  static files from the datasets it knew (not those of ``NEW_DATASETS``); ``--before-rev none`` skips it (no git);
* after: ``html.render`` of the working tree.

Time to first render = the page's own ``performance.now()`` when its first view is drawn (navigation start to
drawn: HTML and JSON parsing, decompression of the core tables and the first render included), read from its
``data-render-ms`` attribute through Playwright on Debian's Chromium, median of ``--loads`` fresh loads. Also for
the page opened on the search (``#tab=prompts``: the message facts and texts decoded too) and on the page of the space
with the most benchmark runs (``#tab=space``: its eval runs decoded too). The machine is shared:
medians, not minima. ``--pages`` measures pages already written (e.g. ``data/dashboard/index.html`` of
``make demo``).

    python bench/bench_dashboard.py [--scales 2x4x14 2x8x90 50x10x365] [--loads 5] [--before-rev HEAD | none]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import subprocess
import tempfile
import time
import types
from collections import Counter
from pathlib import Path
from typing import Any

from genie_obs_dagster.dashboard import html, pack
from genie_obs_dagster.dashboard.synthetic import synthesize

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
# datasets the page of --before-rev may not know (issue 13: search, date range, drill-down; issue 14: the lifecycle)
NEW_DATASETS = ("messages", "people_by_period", "config_item_changes", "sql_reads_daily", "config_change_impact",
                "eval_accuracy")


def _git_show(rev: str, path: str) -> str:
    return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def before_page(data: dict[str, Any], generated: dt.datetime, rev: str) -> str:
    """The page as revision ``rev`` wrote it: its pack.py, template, styles and script, from the datasets it knew."""
    old = types.ModuleType("pack_before")
    exec(compile(_git_show(rev, "genie_obs_dagster/dashboard/pack.py"), "pack_before.py", "exec"), old.__dict__)  # noqa: S102
    payload = {"generated_at": generated.isoformat(timespec="seconds"),
               **old.pack({k: v for k, v in data.items() if k not in NEW_DATASETS})}
    static = {name: _git_show(rev, f"genie_obs_dagster/dashboard/static/{name}")
              for name in ("template.html", "dashboard.css", "dashboard.js")}
    parts = {"TITLE": "Genie observability", "CSS": static["dashboard.css"], "DATA": html._json_for_script(payload),
             "JS": static["dashboard.js"]}
    return re.sub(r"\{\{(TITLE|CSS|DATA|JS)\}\}", lambda m: parts[m.group(1)], static["template.html"])


def render_ms(context: Any, page: Path, fragment: str, loads: int) -> tuple[float, float, str]:
    """Median of the page's own render time and of the wall time from navigation to drawn; the last state."""
    marks, walls, state = [], [], ""
    for _ in range(loads):
        tab = context.new_page()
        t0 = time.perf_counter()
        tab.goto(f"{page.as_uri()}#{fragment}", wait_until="commit", timeout=900_000)
        tab.wait_for_function("document.documentElement.dataset.renderMs", timeout=900_000, polling=20)
        walls.append((time.perf_counter() - t0) * 1000)
        marks.append(float(tab.get_attribute("html", "data-render-ms") or "nan"))
        state = tab.get_attribute("html", "data-rendered") or "?"
        tab.close()
    return statistics.median(marks), statistics.median(walls), state


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", nargs="*", default=["2x4x14", "2x8x90", "50x10x365"], help="WORKSPACESxSPACESxDAYS")
    ap.add_argument("--pages", nargs="*", type=Path, default=[], help="pages already written, measured as they are")
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--before-rev", default="HEAD", help="git revision of the page before this change; none: skip it")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--keep", type=Path, help="write the pages into this folder")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    generated = dt.datetime(2026, 6, 30, 19, 0, tzinfo=dt.timezone.utc)
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory(prefix="chromium-") as profile, \
            sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(profile, executable_path=args.chromium, headless=True, args=FLAGS,
                                                        viewport={"width": 1400, "height": 1000})
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"{'scale':>10} {'messages':>8} | {'before MB':>9} {'render ms':>9} | {'after MB':>8} {'render ms':>9} "
              f"{'wall ms':>7} {'search ms':>9} {'space ms':>8} {'state':>6} | {'pack s':>6} | kept per message / texts; "
              "changes, eval runs")
        for scale in args.scales:
            w, s, d = (int(x) for x in scale.split("x"))
            data = synthesize(workspaces=w, spaces=s, days=d, questions_per_workspace_day=30.0 if w <= 2 else 40.0)
            old = folder / f"before-{scale}.html"
            if args.before_rev != "none":
                old.write_text(before_page(data, generated, args.before_rev), encoding="utf-8")
            t0 = time.perf_counter()
            new = folder / f"after-{scale}.html"
            new.write_text(html.render(data, generated), encoding="utf-8")
            packing = time.perf_counter() - t0
            meta = pack.bound(data)[1]
            before = old.exists()
            b_ms, _, _ = render_ms(context, old, "tab=summary", args.loads) if before else (float("nan"), 0, "")
            a_ms, a_wall, state = render_ms(context, new, "tab=summary", args.loads)
            s_ms, _, _ = render_ms(context, new, "tab=prompts", args.loads)
            runs = Counter((r["workspace_id"], r["space_id"]) for r in data.get("eval_accuracy", []))
            busiest = runs.most_common(1)[0][0] if runs else (data["workspaces"][0]["workspace_id"], "")
            sp_ms, _, _ = render_ms(context, new, f"tab=space&space={busiest[0]}/{busiest[1]}", args.loads)
            print(f"{scale:>10} {meta['messages_total']:>8} | {old.stat().st_size / 1e6 if before else float('nan'):>9.2f} {b_ms:>9.0f} | "
                  f"{new.stat().st_size / 1e6:>8.2f} {a_ms:>9.0f} {a_wall:>7.0f} {s_ms:>9.0f} {sp_ms:>8.0f} {state:>6} | {packing:>6.2f} | "
                  f"{meta['messages']['count']} since {meta['messages']['first']} / {meta['texts']['count']} since "
                  f"{meta['texts']['first']}; {len(data.get('config_change_impact', []))}, {len(data.get('eval_accuracy', []))}", flush=True)
        for page in args.pages:
            a_ms, a_wall, state = render_ms(context, page.resolve(), "tab=summary", args.loads)
            s_ms, _, _ = render_ms(context, page.resolve(), "tab=prompts", args.loads)
            found = re.search(r'<script type="application/json" id="dashboard-data">(.*?)</script>', page.read_text(), re.S)
            meta = json.loads(found.group(1))["meta"] if found else {}
            print(f"{page.name:>10} {meta.get('messages_total', '?'):>8} | {'':>9} {'':>9} | {page.stat().st_size / 1e6:>8.2f} "
                  f"{a_ms:>9.0f} {a_wall:>7.0f} {s_ms:>9.0f} {state:>6} |", flush=True)
        context.close()


if __name__ == "__main__":
    main()
