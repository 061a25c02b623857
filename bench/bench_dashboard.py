"""Size of the offline dashboard page and its time to first render in headless Chromium, before and after packing.

The dataset rows are synthesized at each scale (``genie_obs_dagster.dashboard.synthetic``: the shape
``datasets.load`` returns, realistic distributions; no ingestion), then the page is written twice:

* before: the datasets embedded as they come (arrays of objects) with the page script of git ``HEAD~0`` as of
  issue 10 (``--before-rev``), i.e. what ``html.render`` did until issue 11;
* after: ``html.render`` (``dashboard/pack.py``: bounded, columnar, compressed detail).

Time to first render = the page's own ``performance.now()`` when its first page is drawn (navigation start to
drawn: HTML and JSON parsing included), read from ``--dump-dom`` (no virtual time), median of ``--loads`` runs;
the Chromium process wall time (start-up included) is printed too. The machine is shared: medians, not minima.

    python bench/bench_dashboard.py [--scales 2x4x14 2x8x90 50x10x365] [--loads 5] [--before-rev 993c2cd]
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
from pathlib import Path

from genie_obs_dagster.dashboard import html, pack
from genie_obs_dagster.dashboard.synthetic import synthesize

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--window-size=1400,1000")
MARK = '<script>document.documentElement.setAttribute("data-render-ms", performance.now().toFixed(1));</script>\n</body>'


def before_page(data: dict, generated: dt.datetime, rev: str) -> str:
    """The page as issue 10 wrote it: every dataset row as a JSON object, its dashboard.js."""
    js = subprocess.run(["git", "show", f"{rev}:genie_obs_dagster/dashboard/static/dashboard.js"], cwd=ROOT,
                        capture_output=True, text=True, check=True).stdout
    payload = {"generated_at": generated.isoformat(timespec="seconds"), "datasets": data}
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    parts = {"TITLE": "Genie observability", "CSS": html._static("dashboard.css"), "DATA": text, "JS": js}
    page = re.sub(r"\{\{(TITLE|CSS|DATA|JS)\}\}", lambda m: parts[m.group(1)], html._static("template.html"))
    return page.replace("</body>", MARK)  # the old script sets no render time of its own


def render_ms(chromium: str, page: Path, loads: int) -> tuple[float, float, str]:
    marks, walls, state = [], [], ""
    for _ in range(loads):
        with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
            t0 = time.perf_counter()
            out = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                                  f"{page.as_uri()}#tab=summary"], capture_output=True, text=True, timeout=900).stdout
            walls.append(time.perf_counter() - t0)
        root = re.search(r"<html[^>]*>", out)
        found = re.search(r'data-render-ms="([\d.]+)"', root.group(0) if root else "")
        state = (re.search(r'data-rendered="(\w+)"', root.group(0)) or [None, "?"])[1] if root else "no page"
        marks.append(float(found.group(1)) if found else float("nan"))
    return statistics.median(marks), statistics.median(walls) * 1000, state


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", nargs="+", default=["2x4x14", "2x8x90", "50x10x365"], help="WORKSPACESxSPACESxDAYS")
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--before-rev", default="993c2cd", help="git revision of the page script before packing")
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("--keep", type=Path, help="write the pages into this folder")
    args = ap.parse_args()
    generated = dt.datetime(2026, 6, 30, 19, 0, tzinfo=dt.timezone.utc)
    print(f"{'scale':>10} {'rows':>8} | {'before MB':>9} {'render ms':>9} {'wall ms':>8} | "
          f"{'after MB':>8} {'render ms':>9} {'wall ms':>8} {'state':>6} | {'pack s':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for scale in args.scales:
            w, s, d = (int(x) for x in scale.split("x"))
            data = synthesize(workspaces=w, spaces=s, days=d, questions_per_workspace_day=30.0 if w <= 2 else 40.0)
            rows = sum(len(v) for v in data.values())
            old = folder / f"before-{scale}.html"
            old.write_text(before_page(data, generated, args.before_rev), encoding="utf-8")
            t0 = time.perf_counter()
            new = folder / f"after-{scale}.html"
            new.write_text(html.render(data, generated), encoding="utf-8")
            packing = time.perf_counter() - t0
            # the old page at 50x10x365 (127 MB) takes minutes per load: one load above 20 MB
            b_ms, b_wall, _ = render_ms(args.chromium, old, args.loads if old.stat().st_size < 20e6 else 1)
            a_ms, a_wall, state = render_ms(args.chromium, new, args.loads)
            print(f"{scale:>10} {rows:>8} | {old.stat().st_size / 1e6:>9.2f} {b_ms:>9.0f} {b_wall:>8.0f} | "
                  f"{new.stat().st_size / 1e6:>8.2f} {a_ms:>9.0f} {a_wall:>8.0f} {state:>6} | {packing:>6.2f}", flush=True)
            caps = pack.prompt_caps(w)
            print(f"{'':>10} prompts kept per workspace: {caps[0]} (negative: {caps[1]}); "
                  f"charts {'weekly' if d > pack.CHART_DAILY_DAYS else 'daily'}", flush=True)


if __name__ == "__main__":
    main()
