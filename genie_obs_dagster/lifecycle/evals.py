"""Benchmarks (Genie eval runs) on a schedule, in plain Python (no Dagster): which spaces are due, starting their
runs, collecting runs and per-question results as rows of ``genie_eval_runs`` / ``genie_eval_results``, and the
accuracy drops the asset check reports.

One pass over a workspace (:func:`run_pass`) never waits for a run: it starts the runs of the spaces that are due,
then lists every eval run of every space with benchmarks and stores each run as the API reports it; the results of a
run are read once the run is final. A run still ``NOT_STARTED`` or ``RUNNING`` is stored as such and collected by a
later pass, which updates the same row (runs are merged on ``(workspace_id, eval_run_id)``), so nothing is duplicated.

Starting a run is a POST that is not idempotent: it is retried only where the server certainly started nothing
(``GenieClient.start_eval_run``). After an ambiguous failure (timeout, 5xx, broken answer) nothing is retried: the
listing that follows in the same pass finds the run if the server started it, and the space is not due again
until its next cron tick once a run exists, so an unknown outcome never leads to a second run.

Accuracy = ``num_correct / num_questions`` of a ``DONE`` run; ``NEEDS_REVIEW`` answers count as not correct (they
are kept apart in ``num_needs_review``), so accuracy is what Genie got right without a person's review.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..genie.client import GenieClient
from ..genie.errors import NOT_FOUND, PERMISSION_DENIED, GenieApiError
from ..settings import EvalSettings
from ..warehouse.sql import ddl_arrow_schema

RUNS_TABLE = "genie_eval_runs"
RESULTS_TABLE = "genie_eval_results"
RUN_KEYS = ("workspace_id", "eval_run_id")
RESULT_KEYS = ("workspace_id", "eval_run_id", "result_id")
FINAL_STATUSES = frozenset({"DONE", "EVALUATION_FAILED", "EVALUATION_CANCELLED", "EVALUATION_TIMEOUT"})


def benchmark_count(serialized_space: str | None) -> int:
    """Benchmark questions in a space's ``serialized_space`` (``benchmarks.questions``; 0 when unreadable)."""
    try:
        value = json.loads(serialized_space) if serialized_space else None
    except ValueError:
        return 0
    questions = ((value or {}).get("benchmarks") or {}).get("questions") if isinstance(value, dict) else None
    return len([q for q in questions if isinstance(q, dict)]) if isinstance(questions, list) else 0


def latest_tick(cron: str, now: dt.datetime) -> dt.datetime:
    """The latest tick of ``cron`` (UTC) at or before ``now``."""
    from dagster._utils.schedules import get_latest_completed_cron_tick

    return get_latest_completed_cron_tick(cron, now, "UTC")


@dataclass(frozen=True)
class StoredRun:
    """What the table holds about a run (``sql/evals/stored_eval_runs.sql``)."""

    space_id: str
    eval_run_id: str
    eval_run_status: str
    is_final: bool
    created_at: dt.datetime | None
    started_by_pipeline: bool
    results_stored: int
    first_seen_at: dt.datetime


def stored_runs(rows: Iterable[Mapping[str, Any]]) -> dict[str, StoredRun]:
    return {r["eval_run_id"]: StoredRun(**{k: r[k] for k in StoredRun.__dataclass_fields__}) for r in rows}


def due_spaces(benchmarks: Mapping[str, int], stored: Mapping[str, StoredRun], settings: EvalSettings,
               now: dt.datetime) -> list[str]:
    """Spaces with benchmark questions whose cron ticked since their latest run was created (any run, also one a
    person started), or that were never evaluated; never a space with a run still in progress, nor one whose cron
    is null."""
    latest: dict[str, dt.datetime] = {}
    busy = set()
    for run in stored.values():
        if not run.is_final:
            busy.add(run.space_id)
        if run.created_at is not None and run.created_at > latest.get(run.space_id, dt.datetime.min.replace(tzinfo=dt.timezone.utc)):
            latest[run.space_id] = run.created_at
    due = []
    for space_id, n in sorted(benchmarks.items()):
        cron = settings.cron_for(space_id)
        if n <= 0 or cron is None or space_id in busy:
            continue
        if space_id not in latest or latest_tick(cron, now) > latest[space_id]:
            due.append(space_id)
    return due


def _ms_to_dt(value: Any) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(value / 1000, dt.timezone.utc) if isinstance(value, int) and value > 0 else None


def accuracy_of(run: Mapping[str, Any]) -> float | None:
    """``num_correct / num_questions`` of a DONE run (NEEDS_REVIEW is not correct); None for any other run."""
    n = int(run.get("num_questions") or 0)
    return int(run.get("num_correct") or 0) / n if run.get("eval_run_status") == "DONE" and n else None


def run_row(workspace_id: str, space_id: str, run: Mapping[str, Any], stored: StoredRun | None, started: bool,
            results_stored: int, now: dt.datetime) -> dict[str, Any]:
    status = str(run["eval_run_status"])
    done, correct, review = (int(run.get(k) or 0) for k in ("num_done", "num_correct", "num_needs_review"))
    return {
        "workspace_id": workspace_id, "space_id": space_id, "eval_run_id": run["eval_run_id"],
        "eval_run_status": status, "is_final": status in FINAL_STATUSES,
        "created_timestamp": run.get("created_timestamp"), "last_updated_timestamp": run.get("last_updated_timestamp"),
        "created_at": _ms_to_dt(run.get("created_timestamp")), "updated_at": _ms_to_dt(run.get("last_updated_timestamp")),
        "num_questions": int(run.get("num_questions") or 0), "num_done": done, "num_correct": correct,
        "num_needs_review": review, "num_bad": max(done - correct - review, 0), "accuracy": accuracy_of(run),
        "run_by_user": None if run.get("run_by_user") is None else str(run["run_by_user"]),
        "started_by_pipeline": started or bool(stored and stored.started_by_pipeline),
        "results_stored": results_stored,
        "first_seen_at": stored.first_seen_at if stored else now, "fetched_at": now,
    }


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def result_row(workspace_id: str, space_id: str, eval_run_id: str, item: Mapping[str, Any],
               details: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A result as listed, completed by its details (assessment, reasons, responses)."""
    both = {**item, **details}
    assessment = both.get("assessment")
    return {
        "workspace_id": workspace_id, "space_id": space_id, "eval_run_id": eval_run_id,
        "result_id": both["result_id"], "benchmark_question_id": both.get("benchmark_question_id"),
        "question": _json_text(both.get("question")), "benchmark_answer": _json_text(both.get("benchmark_answer")),
        "status": _json_text(both.get("status")), "assessment": _json_text(assessment),
        "is_correct": assessment == "GOOD", "assessment_reasons": _json_text(both.get("assessment_reasons")),
        "manual_assessment": _json_text(both.get("manual_assessment")),
        "actual_response": _json_text(both.get("actual_response")),
        "created_by_user": _json_text(both.get("created_by_user")), "fetched_at": now,
    }


@dataclass
class PassResult:
    """What one pass over a workspace did (the UI's figures) and the rows to merge."""

    runs: pa.Table
    results: pa.Table
    started: list[str] = field(default_factory=list)           # space ids whose run this pass started
    start_errors: list[tuple[str, GenieApiError]] = field(default_factory=list)
    list_errors: list[tuple[str, GenieApiError]] = field(default_factory=list)
    result_errors: list[tuple[str, GenieApiError]] = field(default_factory=list)  # (eval run id, error)
    runs_listed: int = 0
    runs_finished_now: int = 0
    open_runs: int = 0
    results_fetched: int = 0

    @property
    def api_calls_failed(self) -> bool:
        """Every space's listing failed with something other than a deleted or forbidden space."""
        bad = [e for _, e in self.list_errors if e.error_type not in (NOT_FOUND, PERMISSION_DENIED)]
        return bool(bad) and self.runs_listed == 0


def run_pass(client: GenieClient, workspace_id: str, benchmarks: Mapping[str, int], stored: Mapping[str, StoredRun],
             settings: EvalSettings, now: dt.datetime, log: Callable[[str], None] = lambda _: None) -> PassResult:
    """Start the due spaces' runs, then list every run of every space with benchmarks; read the results of runs that
    are final and whose results are not stored yet. Never waits for a run."""
    started: dict[str, str] = {}
    start_errors: list[tuple[str, GenieApiError]] = []
    for space_id in due_spaces(benchmarks, stored, settings, now):
        try:
            run = client.start_eval_run(space_id)
        except GenieApiError as exc:  # not retried blindly: the listing below finds a run the server did start
            start_errors.append((space_id, exc))
            log(f"space {space_id}: starting an eval run failed ({exc}); not retried, the listing shows any run started")
            continue
        started[run["eval_run_id"]] = space_id
        log(f"space {space_id}: eval run {run['eval_run_id']} started ({run.get('num_questions')} questions)")
    runs, results = [], []
    out = PassResult(pa.table({}), pa.table({}), started=sorted(started.values()), start_errors=start_errors)
    for space_id in sorted(set(benchmarks) | {r.space_id for r in stored.values()}):
        try:
            listed = list(client.list_eval_runs(space_id, page_size=settings.page_size))
        except GenieApiError as exc:
            out.list_errors.append((space_id, exc))
            log(f"space {space_id}: listing eval runs failed ({exc}); stored runs are kept as they are")
            continue
        for run in listed:
            out.runs_listed += 1
            rid = run["eval_run_id"]
            before = stored.get(rid)
            final = run["eval_run_status"] in FINAL_STATUSES
            kept = before.results_stored if before else 0
            if final and (before is None or not before.is_final or kept < int(run.get("num_done") or 0)):
                try:
                    items = list(client.list_eval_results(space_id, rid, page_size=settings.page_size))
                    fetched = [result_row(workspace_id, space_id, rid, item,
                                          client.get_eval_result(space_id, rid, item["result_id"]), now)
                               for item in items]
                except GenieApiError as exc:  # this run's results only: stored with its old count, read next pass
                    out.result_errors.append((rid, exc))
                    log(f"space {space_id}: reading the results of eval run {rid} failed ({exc}); the run is stored "
                        f"with {kept} result(s) and its results are read again on the next pass")
                else:
                    results.extend(fetched)
                    kept = len(items)
                    out.results_fetched += len(items)
                    out.runs_finished_now += 1
            elif not final:
                out.open_runs += 1
            runs.append(run_row(workspace_id, space_id, run, before, rid in started, kept, now))
    out.runs = pa.Table.from_pylist(runs, schema=ddl_arrow_schema(RUNS_TABLE))
    out.results = pa.Table.from_pylist(results, schema=ddl_arrow_schema(RESULTS_TABLE))
    return out


@dataclass(frozen=True)
class AccuracyDrop:
    space_id: str
    space_title: str | None
    previous_run_id: str
    previous_accuracy: float
    latest_run_id: str
    latest_accuracy: float

    def describe(self) -> str:
        name = f"'{self.space_title}' ({self.space_id})" if self.space_title else self.space_id
        return (f"space {name}: accuracy {self.latest_accuracy:.1%} in eval run {self.latest_run_id}, down from "
                f"{self.previous_accuracy:.1%} in eval run {self.previous_run_id}")


def accuracy_drops(rows: Sequence[Mapping[str, Any]], margin: float) -> list[AccuracyDrop]:
    """Spaces whose latest DONE run's accuracy is lower than their previous DONE run's by more than ``margin``
    (rows of ``sql/checks/evals/accuracy_drop.sql``)."""
    drops = []
    for r in rows:
        prev, latest = r.get("previous_accuracy"), r.get("latest_accuracy")
        if prev is not None and latest is not None and prev - latest > margin + 1e-9:
            drops.append(AccuracyDrop(r["space_id"], r.get("space_title"), r["previous_run_id"], float(prev),
                                      r["latest_run_id"], float(latest)))
    return drops
