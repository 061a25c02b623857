"""Benchmark (issues 4 and 11): ingest ~5,000 messages over 2 simulated workspaces with 100 ms latency and a
server limit of 20 requests/s per workspace. Compares the fetch that answers a conversation's pending messages
with one listing (``listing``, the product) with one GET per message (``per-message``), and optionally the
sequential one-request-at-a-time fetch of the replaced system. Prints figures; never a test.

Before each run the servers' request buckets are spent (as by a run that just ended at the full rate), so the
429s of a client's first seconds show whether its start-up burst exceeds what the server allows. Each mode runs
``--repeats`` times; medians are printed (the machine is shared). ``--memory`` adds (``--memory-only``: only)
the fetch's peak memory at ~1,000, ~4,000 and ~10,000 messages of one workspace: the fetch runs alone in a child
process (the simulated workspace, which keeps an audit row per request, stays in the parent), reading its refs
lazily from the warehouse's Arrow result; tracemalloc peak and peak RSS, against the goal "flat: the peak at the
largest count within ~1.2x of the smallest" (MET/MISSED).

Usage: .venv/bin/python bench/bench_message_fetch.py [--repeats 3] [--modes listing,per-message] [--sequential]
       [--memory | --memory-only] [--questions-per-day 250] [--days 10]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genie_obs_dagster.genie import errors as E  # noqa: E402
from genie_obs_dagster.genie.auth import OAuthTokenSource  # noqa: E402
from genie_obs_dagster.genie.client import ClientSettings, GenieClient  # noqa: E402
from genie_obs_dagster.genie.fetch import fetch_messages  # noqa: E402
from genie_obs_dagster.genie.ingest import ingest  # noqa: E402
from genie_obs_dagster.partitions import Slice  # noqa: E402
from genie_obs_dagster.sandbox.scenario import ScenarioParams, generate  # noqa: E402
from genie_obs_dagster.sandbox.server import SimConfig, SimulatedDatabricks, WorkspaceFaults  # noqa: E402
from genie_obs_dagster.sandbox.system_tables import load_system_tables  # noqa: E402
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse  # noqa: E402

WS = ("1234567890123456", "2345678901234567")
PRINCIPAL = "5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f"
LIMIT = 20.0
STARTUP_S = 2.0
DETAILS = ("SELECT * EXCLUDE (fetched_at, first_fetched_at) FROM main.genie_analytics.message_details "
           "ORDER BY workspace_id, message_id")


def audit_layer(wh: DuckDBWarehouse, start: dt.date, end: dt.date) -> None:
    wh.ensure_schema()
    for ws in WS:
        sl = Slice(ws, start, end)
        wh.replace("genie_audit_events", "audit/genie_audit_events", {**sl.params(), "ingestion_principal": PRINCIPAL, "space_ids": ""},
                   {"workspace_id": ws, "event_date": (start, end)})
        wh.merge("genie_messages_to_fetch", "audit/genie_messages_to_fetch", sl.params(), ["workspace_id", "message_id"])


def new_client(sim: SimulatedDatabricks, ws: str, settings: ClientSettings) -> GenieClient:
    return GenieClient(ws, sim.urls[ws], OAuthTokenSource(sim.urls[ws], sim.client_id, sim.client_secret), settings)


def spend_server_buckets(sim: SimulatedDatabricks) -> None:
    """What a run that just ended at the server's rate leaves behind: an empty request bucket."""
    def one(c: GenieClient) -> bool:
        try:
            c.request("GET", "/api/2.0/genie/spaces")
        except E.GenieApiError as exc:
            return exc.error_type == E.RATE_LIMITED
        return False

    for ws in WS:
        c = new_client(sim, ws, ClientSettings(rate_per_s=100_000, concurrency=48, max_attempts=1))
        c.tokens.headers()
        with ThreadPoolExecutor(48) as pool:
            while not any(pool.map(one, [c] * 48)):
                pass
        c.close()


def run(sim: SimulatedDatabricks, wh: DuckDBWarehouse, start: dt.date, end: dt.date, mode: str) -> dict[str, float]:
    settings = (ClientSettings(rate_per_s=10_000, concurrency=1) if mode == "sequential"
                else ClientSettings(rate_per_s=LIMIT, concurrency=8))
    clients = {ws: new_client(sim, ws, settings) for ws in WS}
    for c in clients.values():
        c.tokens.headers()  # OAuth set-up is not what we measure
        if mode != "listing":
            c.listing_available = False  # one GET per message
    spend_server_buckets(sim)
    before = {ws: sim.stats(ws) for ws in WS}
    at_startup: dict[str, int] = {}
    t = time.monotonic()

    def watch() -> None:
        time.sleep(STARTUP_S)
        at_startup.update({ws: sim.stats(ws).throttled - before[ws].throttled for ws in WS})

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    results = ingest(wh, [Slice(ws, start, end) for ws in WS], clients.__getitem__,
                     lambda ws: {"spaces": "", "batch_size": 500}, progress=lambda s: None,
                     max_parallel_workspaces=1 if mode == "sequential" else len(WS))
    seconds = time.monotonic() - t
    watcher.join()
    served = sum(sim.stats(ws).requests - before[ws].requests for ws in WS)
    throttled = sum(sim.stats(ws).throttled - before[ws].throttled for ws in WS)
    fetched = sum(r.summary.fetched for r in results)
    listed = wh.sql("SELECT COUNT(*) FROM main.genie_analytics.genie_messages_to_fetch")[0][0]
    stored = wh.sql("SELECT COUNT(*), COUNT(DISTINCT workspace_id || message_id) FROM main.genie_analytics.message_details")[0]
    for c in clients.values():
        c.close()
    return {"seconds": seconds, "fetched": fetched, "failed": sum(r.summary.failed for r in results),
            "requests": served, "throttled": throttled, "throttled_startup": sum(at_startup.values()),
            "msg_per_s": fetched / seconds, "x_limit": fetched / seconds / (LIMIT * len(WS)),
            "listings": sum(getattr(r.summary, "listings", 0) for r in results),
            "lost": listed - stored[0], "duplicated": stored[0] - stored[1]}


MEMORY_COUNTS = ((500, 2), (2000, 2), (5000, 2))  # questions/day, days: ~1,000, ~4,000, ~10,000 messages
FLAT_X = 1.2  # goal: the peak at the largest count within 1.2x of the peak at the smallest


def _mib_status(field: str) -> float:
    """``VmRSS`` / ``VmHWM`` of this process (MiB), from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _fetch_child(url: str, client_id: str, secret: str, db: str, ws: str, start: dt.date, end: dt.date,
                 traced: bool, out: Any) -> None:
    """The fetch alone, in its own process (the simulated workspace and its per-request audit rows live in
    the parent): the slice's pending refs come lazily from the warehouse's Arrow result (``pending_refs``,
    as ``ingest_slice`` reads them), each batch's outcomes are shaped into the tables ``write_outcomes``
    would merge (``to_tables``) and dropped. ``traced``: tracemalloc peak of everything allocated from the
    fetch's start (no other work in this process), and what grew most by traceback; otherwise peak RSS."""
    from genie_obs_dagster.genie.ingest import pending_refs
    from genie_obs_dagster.genie.rows import to_tables

    wh = DuckDBWarehouse(db)
    sl = Slice(ws, start, end)
    wh.execute("genie/sync_from_audit", sl.params())
    client = GenieClient(ws, url, OAuthTokenSource(url, client_id, secret),
                         ClientSettings(rate_per_s=100_000, concurrency=8))
    client.tokens.headers()
    # warm-up: one fetch of the first batch (imports, connection pool, user cache) is not what grows
    n, refs = pending_refs(wh, sl, "")
    fetch_messages(client, itertools.islice(refs, 500), lambda b: to_tables(b), batch_size=500)
    res: dict[str, Any] = {}
    if traced:
        tracemalloc.start(25)
        before = tracemalloc.take_snapshot()
    else:
        rss_start = _mib_status("VmRSS")
        with contextlib.suppress(OSError):  # reset the peak-RSS mark (Linux): VmHWM then is the fetch's own peak
            Path("/proc/self/clear_refs").write_text("5")
    n, refs = pending_refs(wh, sl, "")  # the Arrow result: held by ingest_slice, not the fetch (nbytes below)
    got: list[int] = []
    summary = fetch_messages(client, refs, lambda b: got.append(to_tables(b)[0].num_rows) or None, batch_size=500)
    res.update(n=n, fetched=summary.fetched, failed=summary.failed, batches=len(got))
    if traced:
        res["peak"] = tracemalloc.get_traced_memory()[1] / 2**20
        res["retained"] = tracemalloc.get_traced_memory()[0] / 2**20
        stats = tracemalloc.take_snapshot().compare_to(before, "traceback")
        res["top"] = [(d.size_diff / 2**10, d.count_diff, "; ".join(f"{Path(f.filename).name}:{f.lineno}"
                       for f in list(d.traceback)[-4:])) for d in stats[:5]]
        tracemalloc.stop()
    else:
        res.update(rss_start=rss_start, rss_peak=_mib_status("VmHWM"))
    arrow = wh.query("genie/messages_pending_fetch", {**sl.params(), "space_ids": ""})
    res["arrow_mib"] = arrow.nbytes / 2**20
    client.close()
    out.put(res)


def fetch_memory(per_day: int, days: int) -> dict[str, Any]:
    """One workspace's pending messages fetched by a child process (no latency, no server limit), measured
    twice: traced (tracemalloc) and untraced (RSS)."""
    start = dt.date(2026, 1, 1)
    end = start + dt.timedelta(days=days - 1)
    scenario = generate(ScenarioParams(start_date=start, days=days, workspace_ids=WS[:1], users=40,
                                       questions_per_day=per_day, ingestion_principal=PRINCIPAL))
    faults = WorkspaceFaults(requests_per_second=None)
    ctx = multiprocessing.get_context("spawn")
    res: dict[str, Any] = {"messages": len(scenario.messages)}
    with tempfile.TemporaryDirectory() as tmp, SimulatedDatabricks(scenario, SimConfig(faults=faults), workspace_ids=WS[:1]) as sim:
        wh = DuckDBWarehouse(f"{tmp}/wh.duckdb")
        load_system_tables(wh, scenario)
        for ws in WS[:1]:
            sl = Slice(ws, start, end)
            wh.ensure_schema()
            wh.replace("genie_audit_events", "audit/genie_audit_events", {**sl.params(), "ingestion_principal": PRINCIPAL, "space_ids": ""},
                       {"workspace_id": ws, "event_date": (start, end)})
            wh.merge("genie_messages_to_fetch", "audit/genie_messages_to_fetch", sl.params(), ["workspace_id", "message_id"])
        del wh  # the child opens the file
        for traced in (True, False):
            q = ctx.Queue()
            p = ctx.Process(target=_fetch_child, args=(sim.urls[WS[0]], sim.client_id, sim.client_secret,
                                                       f"{tmp}/wh.duckdb", WS[0], start, end, traced, q))
            p.start()
            got = q.get(timeout=1800)
            p.join()
            res.update(got)
    return res


def memory_report() -> None:
    print(f"fetch memory: one workspace, no latency, no server limit, batches of 500, 8 in flight; the fetch runs "
          f"alone in a child process (simulated workspace in the parent); refs read lazily from the warehouse's "
          f"Arrow result, each batch shaped into its tables and dropped. Goal (flat): peak at the largest count "
          f"within ~{FLAT_X:g}x of the smallest", flush=True)
    rows = []
    for per_day, days in MEMORY_COUNTS:
        r = fetch_memory(per_day, days)
        rows.append(r)
        print(f"  {r['fetched']:,} messages fetched ({r['failed']} failed, {r['batches']} batches): tracemalloc peak "
              f"{r['peak']:.2f} MiB (still held after the fetch: {r['retained']:.2f} MiB); peak RSS {r['rss_peak']:.1f} MiB "
              f"(RSS at the fetch's start {r['rss_start']:.1f} MiB); pending refs' Arrow result "
              f"(held by ingest_slice): {r['arrow_mib']:.2f} MiB", flush=True)
    lo, hi = rows[0], rows[-1]
    x = hi["peak"] / lo["peak"]
    print(f"fetch memory: {hi['fetched'] / lo['fetched']:.1f}x the messages -> tracemalloc peak {x:.2f}x "
          f"({lo['peak']:.2f} -> {hi['peak']:.2f} MiB), peak RSS {lo['rss_peak']:.1f} -> {hi['rss_peak']:.1f} MiB; "
          f"goal: flat (within ~{FLAT_X:g}x): {'MET' if x <= FLAT_X else 'MISSED'}")
    if x > FLAT_X:
        print("  grew most (tracemalloc, largest count, by traceback):")
        for kib, count, where in hi["top"]:
            print(f"    {kib:+.0f} KiB, {count:+d} blocks: {where}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions-per-day", type=int, default=250)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--modes", default="listing,per-message")
    ap.add_argument("--sequential", action="store_true", help="also the replaced system's sequential fetch (once)")
    ap.add_argument("--memory", action="store_true", help="also the fetch's peak memory at three message counts")
    ap.add_argument("--memory-only", action="store_true", help="only the fetch's peak memory")
    args = ap.parse_args()
    if args.memory_only:
        memory_report()
        return
    start = dt.date(2026, 1, 1)
    end = start + dt.timedelta(days=args.days - 1)
    scenario = generate(ScenarioParams(start_date=start, days=args.days, workspace_ids=WS, users=40,
                                       questions_per_day=args.questions_per_day, ingestion_principal=PRINCIPAL))
    n_conv = len({m.conversation_id for m in scenario.messages})
    print(f"scenario: {len(scenario.messages):,} messages in {n_conv:,} conversations over {len(WS)} workspaces; "
          f"server: 100 ms latency, {LIMIT:g} requests/s per workspace (bucket spent before each run); "
          f"client: {LIMIT:g} requests/s, 8 in flight per workspace; medians of {args.repeats} runs on a shared machine")
    modes = [m for m in args.modes.split(",") if m]
    faults = WorkspaceFaults(latency_s=0.1, requests_per_second=LIMIT, burst=int(LIMIT))
    figures: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    details: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, SimulatedDatabricks(scenario, SimConfig(faults=faults)) as sim:
        base = DuckDBWarehouse(f"{tmp}/base.duckdb")
        load_system_tables(base, scenario)
        audit_layer(base, start, end)
        for i in range(args.repeats):
            for mode in modes + (["sequential"] if args.sequential and i == 0 else []):
                path = f"{tmp}/{mode}-{i}.duckdb"
                shutil.copy(f"{tmp}/base.duckdb", path)
                wh = DuckDBWarehouse(path)
                f = run(sim, wh, start, end, mode)
                figures.setdefault(mode, []).append(f)
                if i == 0:
                    details[mode] = wh.sql(DETAILS)
                print(f"  {mode} #{i + 1}: {f['fetched']:,.0f} fetched in {f['seconds']:.1f}s = {f['msg_per_s']:.1f} msg/s "
                      f"({f['x_limit']:.2f}x the limit), {f['requests']:,.0f} requests, 429: {f['throttled_startup']:.0f} "
                      f"in the first {STARTUP_S:g}s / {f['throttled']:.0f} in all, lost {f['lost']:.0f}, "
                      f"duplicated {f['duplicated']:.0f}", flush=True)
    for mode, runs in figures.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{mode} (median of {len(runs)}): {med['fetched']:,.0f} messages in {med['seconds']:.1f}s = "
              f"{med['msg_per_s']:.1f} msg/s = {med['x_limit']:.2f}x the server's request limit "
              f"({LIMIT * len(WS):g}/s over {len(WS)} workspaces); {med['requests']:,.0f} requests "
              f"({med['requests'] / max(1, med['fetched']):.2f} per message, {med['listings']:,.0f} conversation listings); "
              f"429: {med['throttled_startup']:.0f} in the first {STARTUP_S:g}s, {med['throttled']:.0f} in all; "
              f"failed {med['failed']:.0f}, lost {med['lost']:.0f}, duplicated {med['duplicated']:.0f}")
    if "listing" in figures and "per-message" in figures:
        a = statistics.median(r["seconds"] for r in figures["per-message"])
        b = statistics.median(r["seconds"] for r in figures["listing"])
        same = details["listing"] == details["per-message"]
        print(f"listing vs per-message: {a / b:.2f}x faster; message_details identical (fetch times aside): {same}")
    if "sequential" in figures and "listing" in figures:
        print(f"listing vs sequential: {figures['sequential'][0]['seconds'] / statistics.median(r['seconds'] for r in figures['listing']):.1f}x faster")
    if args.memory:
        memory_report()

if __name__ == "__main__":
    main()
