"""Genie eval runs (benchmarks) of a simulated workspace: genie-api.md §1.4 (routes) and §2.6 (shapes).

``POST /spaces/{sid}/eval-runs`` (body ``{benchmark_question_ids?}``, omitted = every benchmark question of the
space's ``serialized_space``) creates a run; it then moves over the server's clock (``SimConfig.clock``)
``NOT_STARTED`` -> ``RUNNING`` (one question evaluated every ``seconds_per_question``) -> ``DONE``, or, rarely
(``failure_rate``, 4% by default), stops with ``EVALUATION_FAILED`` part way. Each evaluated question gets a
result whose ``assessment`` is ``GOOD``, ``BAD`` or ``NEEDS_REVIEW``, drawn from the scenario's seed, the space and
the run's ordinal, so the same scenario always gives the same runs whatever the order of requests. Lists page with
``page_size`` / ``page_token`` / ``next_page_token`` (default 20, at most 100, larger sizes clamped: the documented
default and maximum of conversations, assumed here, genie-api.md §7.2).

Assumptions the reference leaves open ([U]): run and result ids are 32 lowercase hex; ``run_by_user`` and
``created_by_user`` are the caller's identity (a string); a result's ``status`` is ``DONE`` (evaluated) and the
assessment is only in a result's details (``GET .../results/{result_id}``); the ``aibiGenie`` audit action names.
Creating a run needs CAN EDIT (``Principal.can_manage``); reading needs access to the space.

Eval-run state lives beside the workspace's :class:`~.state.WorkspaceState` (one :class:`EvalStore` per state,
created on first use); handlers run under the scenario lock like every Genie route.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import weakref
from dataclasses import dataclass, field
from typing import Any

from ..model import Space, ms
from .genie import G, _path_id, _space, _with_next
from .paging import page_size, paginate
from .protocol import Response, denied, invalid, json_response, not_found
from .routing import Call, Route, route
from .state import WorkspaceState

RUN_STATUSES = ("NOT_STARTED", "RUNNING", "DONE", "EVALUATION_FAILED", "EVALUATION_CANCELLED", "EVALUATION_TIMEOUT")
FINAL_RUN_STATUSES = frozenset({"DONE", "EVALUATION_FAILED", "EVALUATION_CANCELLED", "EVALUATION_TIMEOUT"})
ASSESSMENTS = ("GOOD", "BAD", "NEEDS_REVIEW")
RUNS = G + "/{space_id}/eval-runs"
RUN = RUNS + "/{eval_run_id}"


@dataclass(frozen=True)
class EvalTiming:
    """How eval runs progress on the server's clock, and how often one fails."""

    start_delay_s: float = 5.0            # NOT_STARTED for this long after creation
    seconds_per_question: float = 10.0    # then one benchmark question evaluated per period
    failure_rate: float = 0.04            # share of runs that end EVALUATION_FAILED part way (drawn per run)
    needs_review_rate: float = 0.1        # share of answers Genie cannot judge alone


@dataclass
class EvalQuestion:
    question_id: str
    question: str
    answer_sql: str | None
    assessment: str
    result_id: str


@dataclass
class EvalRun:
    space_id: str
    eval_run_id: str
    created_at: dt.datetime
    run_by_user: str
    questions: list[EvalQuestion]
    fails_after: int | None  # questions evaluated before the run fails, None: it completes
    timing: EvalTiming

    def done_at(self, n: int) -> dt.datetime:
        """When the ``n``-th question (1-based) is evaluated."""
        return self.created_at + dt.timedelta(seconds=self.timing.start_delay_s + n * self.timing.seconds_per_question)

    def progress(self, now: dt.datetime) -> tuple[str, int, dt.datetime]:
        """(status, questions evaluated, time of the latest change) at ``now``."""
        started = self.created_at + dt.timedelta(seconds=self.timing.start_delay_s)
        if now < started:
            return "NOT_STARTED", 0, self.created_at
        per = self.timing.seconds_per_question
        done = len(self.questions) if per <= 0 else min(len(self.questions), int((now - started).total_seconds() // per))
        if self.fails_after is not None and done >= self.fails_after:
            return "EVALUATION_FAILED", self.fails_after, self.done_at(self.fails_after)
        if done == len(self.questions):
            return "DONE", done, self.done_at(done)
        return "RUNNING", done, self.done_at(done) if done else started


@dataclass
class EvalStore:
    seed: str
    timing: EvalTiming = EvalTiming()
    runs: dict[str, EvalRun] = field(default_factory=dict)
    runs_by_space: dict[str, list[EvalRun]] = field(default_factory=dict)

    def create(self, space: Space, question_ids: list[str] | None, caller: str, now: dt.datetime) -> EvalRun:
        benchmarks = benchmark_questions(space)
        if not benchmarks:
            raise invalid(f"Genie space {space.space_id} has no benchmark questions to evaluate.")
        if question_ids is not None:
            known = {b["id"] for b in benchmarks}
            unknown = [q for q in question_ids if q not in known]
            if unknown:
                raise invalid(f"Unknown benchmark question id(s) for Genie space {space.space_id}: {', '.join(unknown)}")
            benchmarks = [b for b in benchmarks if b["id"] in set(question_ids)]
        ordinal = len(self.runs_by_space.get(space.space_id, []))
        rng = random.Random(f"{self.seed}:{space.space_id}:{ordinal}")
        skill = random.Random(f"{self.seed}:{space.space_id}:skill").uniform(0.55, 0.9)
        questions = []
        for b in benchmarks:
            u = rng.random()
            review = self.timing.needs_review_rate
            assessment = "GOOD" if u < skill * (1 - review) else "NEEDS_REVIEW" if u < skill * (1 - review) + review else "BAD"
            answer = (b.get("answer") or [{}])[0]
            questions.append(EvalQuestion(b["id"], "".join(b.get("question") or []),
                                          "".join(answer.get("content") or []) or None, assessment, _hex(rng)))
        fails = rng.random() < self.timing.failure_rate
        run = EvalRun(space.space_id, _hex(rng), now, caller, questions,
                      rng.randrange(len(questions)) if fails else None, self.timing)
        self.runs[run.eval_run_id] = run
        self.runs_by_space.setdefault(space.space_id, []).append(run)
        return run


_STORES: weakref.WeakKeyDictionary[WorkspaceState, EvalStore] = weakref.WeakKeyDictionary()


def store_of(state: WorkspaceState) -> EvalStore:
    """The eval runs of a workspace (created on first use, seeded from the scenario and the workspace)."""
    store = _STORES.get(state)
    if store is None:
        store = _STORES[state] = EvalStore(f"{state.scenario.seed}:{state.workspace.workspace_id}")
    return store


def set_eval_timing(state: WorkspaceState, timing: EvalTiming) -> None:
    """Change how runs created from now on progress (tests, demos)."""
    store_of(state).timing = timing


def _hex(rng: random.Random) -> str:
    return hashlib.md5(rng.getrandbits(128).to_bytes(16, "big")).hexdigest()


def benchmark_questions(space: Space) -> list[dict[str, Any]]:
    """``benchmarks.questions`` of the space's serialized_space v2 (genie-api.md §2.5), well-formed items only."""
    raw = (space.serialized_space.get("benchmarks") or {}).get("questions") or []
    return [q for q in raw if isinstance(q, dict) and isinstance(q.get("id"), str)]


# -- wire shapes ---------------------------------------------------------------------------------------
def run_json(run: EvalRun, now: dt.datetime) -> dict[str, Any]:
    """GenieEvalRunResponse (genie-api.md §2.6)."""
    status, done, changed = run.progress(now)
    evaluated = run.questions[:done]
    return {
        "eval_run_id": run.eval_run_id,
        "eval_run_status": status,
        "created_timestamp": ms(run.created_at),
        "last_updated_timestamp": ms(changed),
        "num_questions": len(run.questions),
        "num_done": done,
        "num_correct": sum(q.assessment == "GOOD" for q in evaluated),
        "num_needs_review": sum(q.assessment == "NEEDS_REVIEW" for q in evaluated),
        "run_by_user": run.run_by_user,
    }


def result_json(run: EvalRun, q: EvalQuestion, details: bool) -> dict[str, Any]:
    """GenieEvalResult, or GenieEvalResultDetails with the responses and the assessment (genie-api.md §2.6)."""
    body: dict[str, Any] = {
        "result_id": q.result_id,
        "space_id": run.space_id,
        "benchmark_question_id": q.question_id,
        "question": q.question,
        "benchmark_answer": q.answer_sql or "",
        "created_by_user": run.run_by_user,
        "status": "DONE",
    }
    if details:
        expected = [{"response": q.answer_sql, "response_type": "SQL"}] if q.answer_sql else []
        actual_sql = q.answer_sql if q.assessment == "GOOD" else (f"-- Genie's attempt\n{q.answer_sql}" if q.answer_sql else None)
        body.update({
            "expected_response": expected,
            "actual_response": [{"response": actual_sql, "response_type": "SQL"}] if actual_sql else
                               [{"response": "I could not answer this question.", "response_type": "TEXT"}],
            "assessment": q.assessment,
            "assessment_reasons": {"GOOD": [], "BAD": ["RESULT_MISMATCH"],
                                   "NEEDS_REVIEW": ["RESULTS_DIFFER_IN_FORMAT"]}[q.assessment],
        })
    return body


# -- handlers ------------------------------------------------------------------------------------------
def _run(call: Call, space: Space) -> EvalRun:
    rid = _path_id(call, "eval_run_id", "eval run")
    run = store_of(call.app.state).runs.get(rid)
    if run is None or run.space_id != space.space_id or run.created_at > call.now:
        raise not_found(f"Eval run {rid} does not exist in Genie space {space.space_id}.")
    return run


def create_eval_run(call: Call) -> Response:
    space = _space(call)
    if not call.caller.can_manage:
        raise denied(f"User {call.caller.identity} needs CAN EDIT on Genie space {space.space_id} to run benchmarks.")
    ids = call.request.json_body().get("benchmark_question_ids")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
        raise invalid("benchmark_question_ids must be a list of strings")
    run = store_of(call.app.state).create(space, ids or None, call.caller.identity, call.now)
    call.audit_params["eval_run_id"] = run.eval_run_id
    return json_response(run_json(run, call.now))


def list_eval_runs(call: Call) -> Response:
    space, req = _space(call), call.request
    runs = [r for r in store_of(call.app.state).runs_by_space.get(space.space_id, []) if r.created_at <= call.now]
    size = page_size(req.int_param("page_size"), strict_max=False)
    page, token = paginate(runs, lambda r: (-ms(r.created_at), r.eval_run_id), size, req.query.get("page_token"))
    return json_response(_with_next({"eval_runs": [run_json(r, call.now) for r in page]}, token))


def get_eval_run(call: Call) -> Response:
    return json_response(run_json(_run(call, _space(call)), call.now))


def list_eval_results(call: Call) -> Response:
    space, req = _space(call), call.request
    run = _run(call, space)
    _, done, _ = run.progress(call.now)
    indexed = list(enumerate(run.questions[:done]))
    size = page_size(req.int_param("page_size"), strict_max=False)
    page, token = paginate(indexed, lambda iq: (iq[0], iq[1].result_id), size, req.query.get("page_token"))
    return json_response(_with_next({"eval_results": [result_json(run, q, details=False) for _, q in page]}, token))


def get_eval_result(call: Call) -> Response:
    space = _space(call)
    run = _run(call, space)
    rid = _path_id(call, "result_id", "eval result")
    _, done, _ = run.progress(call.now)
    q = next((q for q in run.questions[:done] if q.result_id == rid), None)
    if q is None:
        raise not_found(f"Eval result {rid} does not exist in eval run {run.eval_run_id}.")
    return json_response(result_json(run, q, details=True))


ROUTES: tuple[Route, ...] = (
    route("POST", RUNS, "create_eval_run", create_eval_run, "genieCreateEvalRun"),
    route("GET", RUNS, "list_eval_runs", list_eval_runs, "genieListEvalRuns"),
    route("GET", RUN, "get_eval_run", get_eval_run, "genieGetEvalRun"),
    route("GET", RUN + "/results", "list_eval_results", list_eval_results, "genieListEvalResults"),
    route("GET", RUN + "/results/{result_id}", "get_eval_result", get_eval_result, "genieGetEvalResult"),
)

__all__ = ["ASSESSMENTS", "FINAL_RUN_STATUSES", "ROUTES", "RUN_STATUSES", "EvalTiming", "set_eval_timing", "store_of"]
