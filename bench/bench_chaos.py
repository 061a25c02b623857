"""Chaos benchmark (issue 10): ingestion as the product runs it, under injected faults, with a kill -9 midway.

Set-up: a generated scenario served by simulated workspaces in this process, every route failing now and then
(500, 503, timeouts longer than the client's timeout, truncated and malformed bodies, dropped connections), a
server request limit below the client's budget (429s), short-lived tokens and every token revoked at the start
of each run. Ingestion runs in a child process: the ``genie_ingest`` job over each workspace's whole range, in
process (``genie_obs_dagster.demo.materialize_range``), on a SQLite Dagster instance in a temporary DAGSTER_HOME
(``deploy/dagster.yaml``). The first run is killed with SIGKILL after its k-th progress line; further runs
follow until the tables stop changing or ``--max-runs``. After each run the tables are compared with the
scenario's ground truth: lost, duplicated, wrong. Goal: 0 / 0 / 0, converged in the first run after the kill.

Prints figures with their goals (MISSED when one is not met); exits 0 either way: a benchmark, never a test.

Usage: .venv/bin/python bench/bench_chaos.py [--days 7] [--questions-per-day 30] [--max-runs 4]
       [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import dagster as dg  # noqa: E402
import duckdb  # noqa: E402

from genie_obs_dagster.component import defs_yaml_for  # noqa: E402
from genie_obs_dagster.sandbox.model import Scenario  # noqa: E402
from genie_obs_dagster.sandbox.scenario import ScenarioParams, generate  # noqa: E402
from genie_obs_dagster.sandbox.server import Fault, SimConfig, SimulatedDatabricks, WorkspaceFaults  # noqa: E402
from genie_obs_dagster.sandbox.system_tables import load_system_tables  # noqa: E402
from genie_obs_dagster.settings import Settings, parse_settings  # noqa: E402
from genie_obs_dagster.warehouse import TableNames  # noqa: E402
from genie_obs_dagster.warehouse.duckdb_backend import DuckDBWarehouse  # noqa: E402

WS = ("1234567890123456", "2345678901234567")
PRINCIPAL = "5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f"
WALL_CLOCK_COLUMNS = frozenset({"first_fetched_at", "fetched_at", "first_attempt_at", "last_attempt_at", "resolved_at"})
PROGRESS = re.compile(r"workspace (\d+): (\d+)/(\d+) messages")

# One run process: the ingest job over each workspace's whole range, one workspace after the other (as the
# demo's initial load does); a failed run does not stop the next workspace's.
CHILD = textwrap.dedent("""
    import datetime as dt, json, sys
    import dagster as dg
    from genie_obs_dagster.code_location import build_definitions
    from genie_obs_dagster.demo import materialize_range
    from genie_obs_dagster.component import load_component_settings

    settings_file, ranges = sys.argv[1], json.loads(sys.argv[2])
    defs = build_definitions(load_component_settings(settings_file))
    with dg.DagsterInstance.get() as instance:
        for ws, start, end in ranges:
            try:
                result = materialize_range(defs, "genie_ingest", ws, dt.date.fromisoformat(start),
                                           dt.date.fromisoformat(end), instance)
            except Exception as exc:
                print("RUN", ws, "failed:", type(exc).__name__, str(exc)[:300].replace(chr(10), " "), flush=True)
                continue
            figures = {}
            for event in result.get_asset_materialization_events():
                if event.asset_key.to_user_string() != "message_details":
                    continue
                for key, value in event.event_specific_data.materialization.metadata.items():
                    if isinstance(value.value, int) and not isinstance(value.value, bool):
                        figures[key] = figures.get(key, 0) + value.value
            print("RUN", ws, "succeeded", "FIGURES", json.dumps(figures), flush=True)
    print("ALL RUNS DONE", flush=True)
""")


@dataclass
class Truth:
    """Lost / duplicated / wrong after one run, against the scenario's ground truth."""

    expected: int = 0
    final_ok: int = 0
    lost: int = 0            # neither a final record nor an open fetch error
    pending_errors: int = 0  # no final record, an open (retryable) fetch error: the next run retries it
    not_final: int = 0       # a record that is not final (the scenario is over: every message is final)
    duplicated: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    open_errors_by_type: Counter[str] = field(default_factory=Counter)
    digest: str = ""

    @property
    def converged(self) -> bool:
        return (self.final_ok == self.expected and not self.lost and not self.pending_errors and not self.not_final
                and not sum(self.duplicated.values()) and not sum(self.wrong.values()))


def compare(db_file: str, names: TableNames, scenario: Scenario) -> Truth:
    expected = scenario.expected_messages_to_fetch()
    messages = {m.key: m for m in scenario.messages}
    emails = {u.user_id: u.email for u in scenario.users}
    schema = TableNames.duckdb_schema(names.target_catalog, names.target_schema)
    t = Truth(expected=len(expected))
    with duckdb.connect(db_file, read_only=True) as c:
        def q(sql: str) -> list[tuple]:
            return c.execute(sql.replace("T.", f'"{schema}".')).fetchall()

        for table, key in (("genie_messages_to_fetch", "workspace_id, message_id"),
                           ("message_details", "workspace_id, message_id"),
                           ("message_fetch_errors", "workspace_id, message_id"),
                           ("genie_audit_events", "event_id")):
            t.duplicated[table] = q(f"SELECT COUNT(*) - COUNT(DISTINCT ({key})) FROM T.{table}")[0][0]  # noqa: S608
        silver = {(w, m): (s, a, d) for w, m, s, a, d in q(
            "SELECT workspace_id, message_id, space_id, asker_email, first_seen_date FROM T.genie_messages_to_fetch")}
        details = {(r[0], r[1]): r[2:] for r in q(
            "SELECT workspace_id, message_id, space_id, status, is_final, content, asker_user_name, user_id "
            "FROM T.message_details")}
        errors = {(w, m): (resolved, permanent, kind) for w, m, resolved, permanent, kind in q(
            "SELECT workspace_id, message_id, resolved, permanent, error_type FROM T.message_fetch_errors")}
        digest = hashlib.sha256()
        for table in ("genie_audit_events", "genie_messages_to_fetch", "message_details", "message_fetch_errors"):
            cols = [r[0] for r in c.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                                            "AND table_name = ? ORDER BY ordinal_position", [schema, table]).fetchall()
                    if r[0] not in WALL_CLOCK_COLUMNS]
            rows = c.execute(f'SELECT {", ".join(chr(34) + x + chr(34) for x in cols)} FROM "{schema}".{table} '  # noqa: S608
                             "ORDER BY ALL").fetchall()
            digest.update(repr((table, rows)).encode())
        t.digest = digest.hexdigest()
    for key, (space, asker, day) in silver.items():
        e = expected.get(key)
        if e is None:
            t.wrong["unexpected listed message"] += 1
        elif (space, asker, day) != (e.space_id, e.asker_email, e.first_seen_date):
            t.wrong["listed message: space, asker or day"] += 1
    for key, (space, status, is_final, content, asker, user_id) in details.items():
        m = messages.get(key)
        if m is None or key not in expected:
            t.wrong["unexpected message record"] += 1
            continue
        if not is_final:
            t.not_final += 1
            continue
        bad = [name for name, ok in (("status", status == m.final_status), ("content", content == m.content),
                                     ("space", space == m.space_id), ("asker", asker == emails[m.user_id]
                                                                     and user_id == m.user_id)) if not ok]
        for name in bad:
            t.wrong[f"message record: {name}"] += 1
        if not bad:
            t.final_ok += 1
    for key in expected:
        d = details.get(key)
        if d is not None and d[2]:
            continue
        err = errors.get(key)
        if err is not None and not err[0]:
            t.pending_errors += 1
            t.open_errors_by_type[err[2] + (" (permanent)" if err[1] else "")] += 1
        elif d is None:
            t.lost += 1
    return t


class Child:
    """A run process; its output lines arrive on a queue (and go to a log file)."""

    def __init__(self, settings_file: Path, ranges: list[tuple[str, str, str]], env: dict[str, str], log: Path):
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, str(settings_file), json.dumps(ranges)], cwd=REPO,
                                     env={**os.environ, **env}, text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._log = log.open("a")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._log.write(line)
            self.lines.put(line.rstrip())
        self._log.flush()
        self.lines.put(None)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


@dataclass
class RunReport:
    number: int
    outcome: str
    seconds: float
    truth: Truth
    figures: Counter[str]
    freed_slots: list[str]
    stalled_on_pool: bool


def started_runs(home: Path) -> set[str]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return {r.run_id for r in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))}


def make_settings(tmp: Path, sim: SimulatedDatabricks, args: argparse.Namespace, start: dt.date) -> Settings:
    return parse_settings({
        "workspaces": [{"id": w, "url": sim.urls[w]} for w in WS],
        "history": {"start_date": start.isoformat()},
        "ingestion_principal": {"identity": PRINCIPAL},
        "warehouse": {"backend": "duckdb", "duckdb": {"path": str(tmp / "genie_obs.duckdb")}},
        "api": {"rate_per_s": args.client_rps, "timeout_s": args.client_timeout_s, "batch_size": args.batch_size},
    })


def chaos_faults(args: argparse.Namespace, seed: int) -> WorkspaceFaults:
    half = args.error_rate / 2
    faults = (Fault("500", rate=half), Fault("503", rate=half / (1 - half)),
              Fault("timeout", rate=args.timeout_rate, delay_s=args.client_timeout_s * 2.5),
              Fault("truncate", rate=args.broken_rate), Fault("malformed", rate=args.broken_rate),
              Fault("drop", rate=args.broken_rate))
    return WorkspaceFaults(requests_per_second=args.server_rps, faults=faults, seed=seed)


def run_once(number: int, args: argparse.Namespace, sim: SimulatedDatabricks, settings_file: Path,
             ranges: list[tuple[str, str, str]], env: dict[str, str], home: Path, log: Path, kill_after: int | None,
             dead: set[str]) -> tuple[str, float, Counter[str], list[str], bool]:
    """One run process, watched line by line: tokens revoked at its first progress line, killed at its
    ``kill_after``-th one. Returns (outcome, seconds, figures, freed slots, stalled on a pool)."""
    t0 = time.monotonic()
    child = Child(settings_file, ranges, env, log)
    progress, figures, outcomes, freed, stalled = 0, Counter[str](), [], [], False
    deadline = t0 + args.run_limit_s
    outcome = "?"
    try:
        while True:
            try:
                line = child.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                outcome = f"no end within the {args.run_limit_s:.0f}s safety limit: killed"
                break
            if line is None:
                outcome = "exited " + ("ok" if child.proc.wait() == 0 else f"with code {child.proc.returncode}")
                break
            if PROGRESS.search(line):
                progress += 1
                if progress == 1:  # an admin revokes the service principal's tokens while the run works
                    for ws in WS:
                        sim.app(ws).tokens.revoke_all()
                if kill_after is not None and progress == kill_after:
                    child.kill()
                    outcome = f"killed with SIGKILL after progress line {progress}"
                    break
            elif line.startswith("RUN "):
                parts = line.split(" ", 3)
                outcomes.append(f"{parts[1][-4:]}: {parts[2]}")
                if "FIGURES" in line:
                    figures.update(json.loads(line.split("FIGURES", 1)[1]))
                elif args.verbose:
                    print("   ", line)
            elif "waiting for pool" in line and not stalled:
                stalled = True
                print(f"  run {number}: {line.split(' - ')[-1]}")
            elif " freed " in line and "is gone" in line:  # the run freed a dead process's pool slot itself
                freed.append(line.split(' - ')[-1])
    finally:
        child.kill()
    if outcomes:
        outcome += " (" + ", ".join(outcomes) + ")"
    return outcome, time.monotonic() - t0, figures, freed, stalled


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "-"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--questions-per-day", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--error-rate", type=float, default=0.10, help="500 + 503 answers, half each")
    ap.add_argument("--timeout-rate", type=float, default=0.05)
    ap.add_argument("--broken-rate", type=float, default=0.02, help="each of truncated, malformed, dropped")
    ap.add_argument("--server-rps", type=float, default=15.0, help="server request limit per workspace (429 above)")
    ap.add_argument("--client-rps", type=float, default=25.0, help="the client's budget (api.rate_per_s), above the limit")
    ap.add_argument("--client-timeout-s", type=float, default=2.0, help="api.timeout_s; injected timeouts hang 2.5x this")
    ap.add_argument("--token-ttl-s", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=25)
    ap.add_argument("--kill-at", type=float, default=0.6, help="kill the first run after this share of its progress lines")
    ap.add_argument("--max-runs", type=int, default=4)
    ap.add_argument("--run-limit-s", type=float, default=900, help="safety limit of one run process")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (warehouse, instance, logs)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    start = dt.date(2026, 1, 1)
    end = start + dt.timedelta(days=args.days - 1)
    scenario = generate(ScenarioParams(seed=args.seed, start_date=start, days=args.days, workspace_ids=WS, users=24,
                                       questions_per_day=args.questions_per_day, ingestion_principal=PRINCIPAL))
    expected = scenario.expected_messages_to_fetch()
    per_ws = Counter(k[0] for k in expected)
    lines_total = sum(math.ceil(n / args.batch_size) for n in per_ws.values())
    kill_after = max(1, math.ceil(args.kill_at * lines_total))
    ranges = [(ws, start.isoformat(), end.isoformat()) for ws in WS]
    tmp = Path(tempfile.mkdtemp(prefix="bench_chaos_"))
    home = tmp / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    log = tmp / "runs.log"
    config = SimConfig(token_ttl_s=args.token_ttl_s, workspace_faults={
        ws: chaos_faults(args, args.seed * 31 + i) for i, ws in enumerate(WS)})
    print(f"scenario: {len(scenario.messages)} messages, {len(expected)} listed by the audit log over {len(WS)} workspaces "
          f"x {args.days} days; faults on every route: {args.error_rate:.0%} 5xx (500/503), {args.timeout_rate:.0%} "
          f"timeouts ({args.client_timeout_s * 2.5:g}s vs client timeout {args.client_timeout_s:g}s), "
          f"{args.broken_rate:.0%} each truncated / malformed / dropped; server limit {args.server_rps:g} req/s vs client "
          f"budget {args.client_rps:g} req/s; token TTL {args.token_ttl_s}s, every token revoked at each run's first "
          f"progress line; run 1 killed (SIGKILL) after progress line {kill_after} of ~{lines_total}")
    t_all = time.monotonic()
    reports: list[RunReport] = []
    with SimulatedDatabricks(scenario, config) as sim:
        settings = make_settings(tmp, sim, args, start)
        names = TableNames.from_settings(settings)
        load_system_tables(DuckDBWarehouse(settings.warehouse.duckdb.path, names), scenario)
        settings_file = tmp / "defs.yaml"
        settings_file.write_text(defs_yaml_for(settings))
        env = {"DAGSTER_HOME": str(home), "GENIE_OBS_CLIENT_ID": sim.client_id,
               "GENIE_OBS_CLIENT_SECRET": sim.client_secret}
        dead: set[str] = set()
        previous = ""
        for number in range(1, args.max_runs + 1):
            outcome, seconds, figures, freed, stalled = run_once(
                number, args, sim, settings_file, ranges, env, home, log, kill_after if number == 1 else None, dead)
            if number == 1:
                dead = started_runs(home)  # the killed run stays STARTED: no daemon watches it here
            truth = compare(settings.warehouse.duckdb.path, names, scenario)
            reports.append(RunReport(number, outcome, seconds, truth, figures, freed, stalled))
            dups, wrong = sum(truth.duplicated.values()), sum(truth.wrong.values())
            client = (f"; client: {figures['api_requests']} requests, {figures.get('api_throttled_429', 0)} x 429, "
                      f"{figures.get('api_retries', 0)} retries" if "api_requests" in figures else "")
            print(f"run {number}: {outcome} in {seconds:.1f}s{client}\n"
                  f"  -> final and correct {truth.final_ok}/{truth.expected}, "
                  f"{'not fetched yet (the run was killed)' if number == 1 and kill_after else 'lost'} {truth.lost}, "
                  f"open errors {truth.pending_errors}"
                  + (f" {dict(truth.open_errors_by_type)}" if truth.open_errors_by_type else "")
                  + f", not final {truth.not_final}, duplicated {dups}, wrong {wrong}"
                  + (f" {dict(+truth.wrong)}" if wrong else "") + ("  [converged]" if truth.converged else ""))
            if number > 1 and (truth.converged or truth.digest == previous):
                break
            previous = truth.digest
        stats = {ws: sim.stats(ws) for ws in WS}
        fired: Counter[str] = Counter()
        for ws in WS:
            fired.update(sim.app(ws).limiter.fired())
    wall = time.monotonic() - t_all

    requests = sum(s.requests for s in stats.values())
    by_kind: Counter[str] = Counter()
    for s in stats.values():
        by_kind.update(s.by_kind)
    throttled = sum(s.throttled for s in stats.values())
    unauthorized = sum(s.by_status.get(401, 0) for s in stats.values())
    tokens = sum(s.tokens_issued for s in stats.values())
    retries = sum(v for r in reports for k, v in r.figures.items() if "retr" in k)
    last = reports[-1].truth
    converged_in = next((r.number for r in reports if r.truth.converged), None)
    print()
    print(f"faults injected: {sum(fired.values())} of {requests} requests ({pct(sum(fired.values()), requests)}): "
          + ", ".join(f"{k} {v}" for k, v in sorted(fired.items())))
    print(f"requests served: {requests} ({', '.join(f'{k} {v}' for k, v in by_kind.most_common())}); "
          f"answered 429 by the request limit: {throttled}")
    print(f"client retries: {retries} (runs that finished only: the killed run's figures died with it); tokens: "
          f"{tokens} issued, {by_kind.get('token', 0)} token requests, {unauthorized} answers 401 (revoked or expired "
          f"token) each followed by a refresh; revocations: {len(reports)} per workspace (one per run)")
    freed = [s for r in reports for s in r.freed_slots]
    stalled = [r.number for r in reports if r.stalled_on_pool]
    if freed:
        print(f"pool slots of the killed run freed by the next run itself: {'; '.join(dict.fromkeys(freed))}")
    if stalled:
        print(f"run(s) {stalled} waited for a pool slot (of the killed run, freed once its process was found gone)")
    else:
        print("no run waited for a pool slot of the killed run")
    dups, wrong = sum(last.duplicated.values()), sum(last.wrong.values())
    goals = [
        ("lost (no final record, no open error)", last.lost, "0", last.lost == 0),
        ("open fetch errors left (retried next run)", last.pending_errors, "0", last.pending_errors == 0),
        ("duplicated rows (4 tables' keys, bronze event_id)", dups, "0", dups == 0),
        ("wrong rows (status/asker/content/space, unexpected keys)", wrong, "0", wrong == 0),
        ("runs to converge (run 1 is killed)", converged_in or f"not within {len(reports)}", "2", converged_in == 2),
    ]
    print(f"after {len(reports)} run(s), {wall:.0f}s wall time in all:")
    for label, value, goal, ok in goals:
        print(f"  {label}: {value}  (goal {goal}){'' if ok else '  MISSED'}")
    if args.keep:
        print(f"kept: {tmp} (runs.log: every run's output)")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
