"""Benchmark: does re-running one day of the audit layer stay flat as history grows, and what memory does a
90-day backfill need? Prints figures with their goals; never a test.

For each questions-per-day rate (default 500 and 1,000) and each history length (default 7 and 90 days) of one
workspace (the ingestion principal reading every message), it builds the whole history with one range run of
`genie_audit_layer`, then re-runs one day (the 4th from the end) several times, timing the warehouse work of
each part: bronze (the partition's replace), silver (its MERGE), and the asset checks' queries. Every figure is
a median over rounds that interleave the histories (the machine may be busy), and the goal is the ratio
90-day / 7-day of the same part at the same rate in the same run. The 90-day x 1,000/day backfill runs in a child
process whose peak RSS (VmHWM) is the memory figure. Silver is compared with the ground truth after the build
and after the re-runs.

With `--before REF` the same is measured for a git revision (extracted with `git archive`) in the same run, on
copies of the same source data, and silver of both revisions must be equal row for row.

Usage: .venv/bin/python bench/bench_audit_scaling.py [--before HEAD] [--rounds 3] [--questions 500 1000]
       [--days 7 90]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WS = "1000000000000000"
PRINCIPAL = "5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f"
START = dt.date(2026, 1, 1)
PARTS = {  # what each timed warehouse call is part of: (method, sql file) -> part
    ("replace", "audit/genie_audit_events"): "bronze",
    ("query", "checks/audit_events_slice"): "bronze checks",
    ("merge", "audit/genie_messages_to_fetch"): "silver",
    ("query", "audit/messages_to_fetch_bounds"): "silver",
    ("query", "checks/messages_to_fetch_slice"): "silver checks",
}
RATIO_GOAL = 1.5
RSS_GOAL_MB = 512
REPEATS = 3  # re-runs of the day per child (after one warm-up); the child reports their median


# -- child processes ------------------------------------------------------------------------------------------
def _settings(db: str):  # noqa: ANN202
    from genie_obs_dagster.settings import parse_settings

    return parse_settings({
        "workspaces": [{"id": WS, "url": "http://127.0.0.1:9000"}],
        "history": {"start_date": START.isoformat()}, "ingestion_principal": {"identity": PRINCIPAL},
        "warehouse": {"duckdb": {"path": db}},
    })


def child_prepare(db: str, days: int, qpd: int, truth: str) -> dict:
    """Generate the scenario, load the source system tables, write the ground truth."""
    from genie_obs_dagster.sandbox.scenario import ScenarioParams, generate
    from genie_obs_dagster.sandbox.system_tables import load_system_tables
    from genie_obs_dagster.warehouse import TableNames
    from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

    settings = _settings(db)
    scenario = generate(ScenarioParams(start_date=START, days=days, workspace_ids=(WS,), questions_per_day=qpd,
                                       ingestion_principal=PRINCIPAL, principal_reads_all=True))
    rows = load_system_tables(DuckDBWarehouse(db, TableNames.from_settings(settings)), scenario)
    expected = {m.message_id: [m.asker_email, m.first_seen_date.isoformat()]
                for m in scenario.expected_messages_to_fetch([WS]).values()}
    Path(truth).write_text(json.dumps(expected))
    return {"audit_rows": rows, "messages": len(expected)}


def _silver(wh, out: str | None = None) -> dict[str, list[str]]:  # noqa: ANN001
    import pyarrow.parquet as pq

    rows = wh.sql("SELECT * FROM main.genie_analytics.genie_messages_to_fetch ORDER BY workspace_id, message_id")
    if out:
        import pyarrow as pa

        cols = [c for c in wh.columns("genie_messages_to_fetch")]
        pq.write_table(pa.Table.from_pylist([dict(zip(cols, r, strict=True)) for r in rows]), out)
    names = wh.columns("genie_messages_to_fetch")
    i_m, i_a, i_d = names.index("message_id"), names.index("asker_email"), names.index("first_seen_date")
    return {r[i_m]: [r[i_a], r[i_d].isoformat()] for r in rows}


def _wrong(silver: dict, truth: str) -> int:
    expected = json.loads(Path(truth).read_text())
    return len(set(silver) ^ set(expected)) + sum(1 for k, v in silver.items() if k in expected and expected[k] != v)


def child_build(db: str, days: int, truth: str, silver_out: str) -> dict:
    """One range run over the whole history (a backfill); peak RSS of this process is reported by the parent."""
    import dagster as dg

    from genie_obs_dagster.code_location import build_definitions
    from genie_obs_dagster.demo import materialize_range
    from genie_obs_dagster.warehouse import TableNames
    from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

    settings = _settings(db)
    defs = build_definitions(settings)
    t = time.monotonic()
    result = materialize_range(defs, "genie_audit_layer", WS, START, START + dt.timedelta(days=days - 1),
                               dg.DagsterInstance.ephemeral())
    seconds = time.monotonic() - t
    peak_mb = _vmhwm_mb()  # the run's peak, before this process reads silver back for the comparison
    checks_ok = all(e.passed for e in result.get_asset_check_evaluations())
    wh = DuckDBWarehouse(db, TableNames.from_settings(settings))
    silver = _silver(wh, silver_out)
    return {"seconds": seconds, "wrong": _wrong(silver, truth), "silver": len(silver), "checks_ok": checks_ok,
            "vmhwm_mb": peak_mb}


def child_rerun(db: str, days: int, truth: str) -> dict:
    """Re-run one day REPEATS times (after a warm-up), timing the warehouse calls of each part."""
    import dagster as dg

    from genie_obs_dagster.code_location import build_definitions
    from genie_obs_dagster.demo import materialize_range
    from genie_obs_dagster.warehouse import TableNames
    from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse

    spent: dict[str, float] = {}

    def timed(method: str, name_arg: int):  # noqa: ANN202
        orig = getattr(DuckDBWarehouse, method)

        def wrapper(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            t = time.perf_counter()
            try:
                return orig(self, *args, **kwargs)
            finally:
                part = PARTS.get((method, args[name_arg] if len(args) > name_arg else ""), "other")
                spent[part] = spent.get(part, 0.0) + time.perf_counter() - t
        setattr(DuckDBWarehouse, method, wrapper)

    timed("replace", 1)
    timed("merge", 1)
    timed("query", 0)
    settings = _settings(db)
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    day = START + dt.timedelta(days=days - 4)
    samples: list[dict[str, float]] = []
    for i in range(REPEATS + 1):
        spent.clear()
        result = materialize_range(defs, "genie_audit_layer", WS, day, day, instance)
        assert all(e.passed for e in result.get_asset_check_evaluations())
        if i:
            samples.append(dict(spent))
    wh = DuckDBWarehouse(db, TableNames.from_settings(settings))
    parts = sorted({p for s in samples for p in s})
    return {"parts": {p: statistics.median(s.get(p, 0.0) for s in samples) for p in parts},
            "wrong": _wrong(_silver(wh), truth)}


def _vmhwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_main(argv: list[str]) -> None:
    what, root, *rest = argv
    sys.path.insert(0, root)
    import genie_obs_dagster

    assert Path(genie_obs_dagster.__file__).resolve().is_relative_to(Path(root).resolve()), genie_obs_dagster.__file__
    kwargs = json.loads(rest[0])
    out = {"prepare": child_prepare, "build": child_build, "rerun": child_rerun}[what](**kwargs)
    print("RESULT " + json.dumps(out))


# -- the parent -----------------------------------------------------------------------------------------------
def run_child(what: str, root: Path, **kwargs: object) -> dict:
    env = {**os.environ, "GENIE_OBS_SQL_DIR": str(root / "sql")}
    proc = subprocess.run([sys.executable, __file__, "--child", what, str(root), json.dumps(kwargs)],
                          capture_output=True, text=True, cwd=root, env=env)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise SystemExit(f"child {what} {kwargs} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def extract(ref: str, dest: Path) -> Path:
    dest.mkdir(parents=True)
    archive = dest / "src.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), ref], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest / "tree", filter="data")
    return dest / "tree"


def verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", help="git revision to measure too, e.g. HEAD (before uncommitted changes)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--data", type=Path, help="folder that keeps the generated source data between runs")
    ap.add_argument("--prepare-only", action="store_true", help="only generate the source data (into --data)")
    ap.add_argument("--questions", type=int, nargs="+", default=[500, 1000])
    ap.add_argument("--days", type=int, nargs=2, default=[7, 90], metavar=("SHORT", "LONG"))
    args = ap.parse_args()
    short, long_ = args.days
    with tempfile.TemporaryDirectory(prefix="bench_audit_scaling_") as tmp_s:
        tmp = Path(tmp_s)
        variants = {"after": ROOT}
        if args.before:
            variants = {"before": extract(args.before, tmp / "before"), **variants}
        data = [(q, d) for q in args.questions for d in (short, long_)]
        src = args.data or tmp
        src.mkdir(parents=True, exist_ok=True)
        for q, d in data:
            t = time.monotonic()
            if not (src / f"truth_{q}_{d}.json").exists():
                (src / f"src_{q}_{d}.duckdb").unlink(missing_ok=True)
                run_child("prepare", ROOT, db=str(src / f"src_{q}_{d}.duckdb"), days=d, qpd=q,
                          truth=str(src / f"truth_{q}_{d}.json.part"))
                (src / f"truth_{q}_{d}.json.part").rename(src / f"truth_{q}_{d}.json")
            messages = len(json.loads((src / f"truth_{q}_{d}.json").read_text()))
            print(f"data {d} days x {q} questions/day: {messages:,} messages (ready in {time.monotonic() - t:.0f}s)",
                  flush=True)
        if args.prepare_only:
            return
        builds: dict[tuple[str, int, int], dict] = {}
        for v, root in variants.items():
            for q, d in data:
                db = tmp / f"{v}_{q}_{d}.duckdb"
                shutil.copy(src / f"src_{q}_{d}.duckdb", db)
                b = builds[v, q, d] = run_child("build", root, db=str(db), days=d, truth=str(src / f"truth_{q}_{d}.json"),
                                                silver_out=str(tmp / f"silver_{v}_{q}_{d}.parquet"))
                print(f"[{v}] backfill {d} days x {q}/day in one range run: {b['seconds']:.1f}s, peak RSS "
                      f"{b['vmhwm_mb']:.0f} MB, silver {b['silver']:,} rows, {b['wrong']} differ from the truth, "
                      f"checks {'pass' if b['checks_ok'] else 'FAIL'}", flush=True)
        samples: dict[tuple[str, int, int], list[dict[str, float]]] = {k: [] for k in builds}
        wrong_after_rerun = 0
        for r in range(args.rounds):
            for v, root in variants.items():
                for q, d in data:
                    res = run_child("rerun", root, db=str(tmp / f"{v}_{q}_{d}.duckdb"), days=d,
                                    truth=str(src / f"truth_{q}_{d}.json"))
                    samples[v, q, d].append(res["parts"])
                    wrong_after_rerun += res["wrong"]
            print(f"round {r + 1}/{args.rounds} done", flush=True)

        print(f"\nRe-running one day partition (day {long_ - 3} of {long_} vs day {short - 3} of {short}); warehouse "
              f"seconds per part, median of {args.rounds} rounds x {REPEATS} runs; goal: {long_}d/{short}d <= "
              f"{RATIO_GOAL}x")
        parts = ["bronze", "silver", "bronze checks", "silver checks", "checks", "other"]
        for v in variants:
            for q in args.questions:
                for p in parts:
                    def med(d: int, p: str = p, q: int = q, v: str = v) -> float:
                        vals = [sum(s.get(x, 0.0) for x in (["bronze checks", "silver checks"] if p == "checks" else [p]))
                                for s in samples[v, q, d]]
                        return statistics.median(vals)
                    a, b = med(short), med(long_)
                    ratio = b / a if a else float("nan")
                    goal = "" if p == "other" else f"  goal <= {RATIO_GOAL}x: {verdict(ratio <= RATIO_GOAL)}"
                    if p in ("bronze checks", "silver checks"):
                        goal = "  (part of checks)"
                    print(f"  [{v}] {q:>5}/day {p:<14} {short:>3}d {a * 1000:8.1f} ms  {long_:>3}d {b * 1000:8.1f} ms  "
                          f"ratio {ratio:5.2f}x{goal}")
        q_max = max(args.questions)
        for v in variants:
            rss = builds[v, q_max, long_]["vmhwm_mb"]
            print(f"[{v}] peak RSS of the {long_}-day x {q_max}/day backfill run: {rss:.0f} MB; goal < {RSS_GOAL_MB} MB: "
                  f"{verdict(rss < RSS_GOAL_MB)}")
        wrong = sum(b["wrong"] for b in builds.values())
        print(f"silver vs ground truth: {wrong} rows differ after the backfills, {wrong_after_rerun} after the re-runs: "
              f"{verdict(wrong == 0 and wrong_after_rerun == 0)}")
        if args.before:
            import pyarrow.parquet as pq

            same = all(pq.read_table(tmp / f"silver_before_{q}_{d}.parquet").equals(
                pq.read_table(tmp / f"silver_after_{q}_{d}.parquet")) for q, d in data)
            print(f"silver of before and after equal row for row (every column): {verdict(same)}")


if __name__ == "__main__":
    main()
