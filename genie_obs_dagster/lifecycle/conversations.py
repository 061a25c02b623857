"""Test conversations: the replaced system's generator (reference-implementation.md, step 7), done right.

For each chosen space it starts ``questions`` conversations with questions taken from the space's own
``serialized_space`` (sample questions, then benchmarks), asks ``follow_ups`` (0-2) follow-ups in each, polls
every message to a final status, and returns one row per question for ``generated_conversations``.

- **Questions per minute.** At most ``questions_per_minute`` (default 5, Genie's API limit per workspace,
  genie-api.md §3.1) POSTs in any 60 s, paced by a sliding window on an injectable clock; a 429 the server
  answers anyway is honoured in full (``Retry-After``) by the client, which pauses every caller of the workspace.
- **Polling** (genie-api.md §3.2): GET message after 1 s, then doubling up to 60 s between polls, until COMPLETED,
  FAILED, CANCELLED (or QUERY_RESULT_EXPIRED) or ``poll_timeout_s`` (default 600 s, the guidance's 10 minutes).
- **A question is asked once.** ``GenieClient.post_question`` retries only where the server created nothing (429,
  401, no token); when the outcome is unknown (5xx, timeout, lost or broken answer) the generator first looks for the
  message (the asker's conversations in the space, or the conversation's messages, by exact text and a creation
  time not before the POST) and asks again only if it is certainly not there (not when looking failed, or a listed
  item of that text has no usable id or time). The row then says ``recovered``, or the error and why not asked again.
- **Who asks.** Not the ingestion service principal: the audit path ignores that principal's events by design
  (README "Who asked?": they are the product's own reads, and a generated question polled by the same principal
  would be indistinguishable from the product fetching a message). The generator asks as a *test asker*, a
  service principal of its own (credentials by environment variable, ``GENIE_OBS_TEST_ASKER_CLIENT_ID`` /
  ``_SECRET`` by default); its questions are then API questions like anyone's: its ask and poll events are found
  by the audit path, which lists and fetches the messages, with the test asker as asker. It refuses to run as the
  ingestion principal. Spaces and their ``serialized_space`` are read with the ingestion principal's client (it has
  CAN MANAGE; the test asker needs only CAN RUN on the spaces).

Plain Python (no Dagster): the Dagster job (``assets/generated.py``) and ``genie-obs generate-conversations`` both
call :func:`generate`.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..genie import errors as E
from ..genie.auth import OAuthTokenSource, resolve_secret
from ..genie.client import ClientSettings, GenieClient, outcome_unknown
from ..genie.rows import FINAL, conform
from ..settings import SecretRef, Settings
from ..warehouse import sql as sqlmod
from .space_diff import items_of, parse

TABLE = "generated_conversations"
KEYS = ("generation_id", "workspace_id", "space_id", "conversation_no", "turn")
ALLOWED_FOLLOW_UPS = (0, 1, 2)
MAX_QUESTIONS = 20
ASKER_CLIENT_ID_ENV = "GENIE_OBS_TEST_ASKER_CLIENT_ID"
ASKER_CLIENT_SECRET_ENV = "GENIE_OBS_TEST_ASKER_CLIENT_SECRET"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
FIRST_POLL_S, MAX_POLL_S = 1.0, 60.0
MAX_POLL_TIMEOUT_S = 86_400.0  # a message not final after a day never will be: a bound, so a run always ends
LOOKUP_SLACK_MS = 5 * 60 * 1000  # a found message may be stamped a little before our clock said we asked


class OptionsError(ValueError):
    """Bad generator options: every problem, each naming the option, the value and what is allowed."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("invalid options for generate-conversations:\n" + "\n".join(f"  - {p}" for p in problems))


class GenerateError(RuntimeError):
    """A generation that cannot start (e.g. the workspace's spaces cannot be listed); the message says why."""


@dataclass(frozen=True)
class GenerateOptions:
    """What to generate in one workspace (the command's flags and the job's run config)."""

    workspace_id: str
    space_ids: tuple[str, ...] = ()        # empty: the workspace's allow list, else every space listed by the API
    questions: int = 1                     # conversations started per space
    follow_ups: int = 1                    # follow-up questions per conversation, 0-2
    poll_timeout_s: float = 600.0
    questions_per_minute: int = 5
    asker_client_id_env: str = ASKER_CLIENT_ID_ENV
    asker_client_secret_env: str = ASKER_CLIENT_SECRET_ENV


def validate(settings: Settings, opts: GenerateOptions) -> GenerateOptions:
    """``opts`` if every option is allowed, else :class:`OptionsError` listing each problem."""
    problems: list[str] = []
    if opts.workspace_id not in settings.workspace_ids:
        problems.append(f"--workspace {opts.workspace_id!r} is not a configured workspace; allowed: "
                        f"{', '.join(settings.workspace_ids)}")
        allow: list[str] = []
    else:
        allow = list(settings.workspace(opts.workspace_id).space_ids)
    for sid in opts.space_ids:
        if not isinstance(sid, str) or not HEX32.match(sid):
            problems.append(f"--space {sid!r} is not allowed; expected a space id of 32 lowercase hex characters")
        elif allow and sid not in allow:
            problems.append(f"--space {sid} is not in the workspace's allow list (workspaces[].space_ids); allowed: "
                            f"{', '.join(allow)}")
    if not isinstance(opts.questions, int) or isinstance(opts.questions, bool) or not 1 <= opts.questions <= MAX_QUESTIONS:
        problems.append(f"--questions {opts.questions!r} is not allowed; allowed: 1 to {MAX_QUESTIONS} "
                        "(conversations started per space)")
    if opts.follow_ups not in ALLOWED_FOLLOW_UPS or isinstance(opts.follow_ups, bool):
        problems.append(f"--follow-ups {opts.follow_ups!r} is not allowed; allowed: 0, 1 or 2 "
                        "(follow-up questions per conversation)")
    if (not isinstance(opts.poll_timeout_s, (int, float)) or isinstance(opts.poll_timeout_s, bool)
            or not 0 < opts.poll_timeout_s <= MAX_POLL_TIMEOUT_S):
        problems.append(f"--poll-timeout {opts.poll_timeout_s!r} is not allowed; allowed: seconds, more than 0 and at "
                        f"most {MAX_POLL_TIMEOUT_S:g} (a day)")
    if not isinstance(opts.questions_per_minute, int) or opts.questions_per_minute < 1:
        problems.append(f"questions_per_minute {opts.questions_per_minute!r} is not allowed; allowed: an integer >= 1")
    for name, value in (("asker_client_id_env", opts.asker_client_id_env),
                        ("asker_client_secret_env", opts.asker_client_secret_env)):
        if not ENV_NAME.match(value or ""):
            problems.append(f"{name} {value!r} is not allowed; expected an environment variable name")
    if problems:
        raise OptionsError(problems)
    return opts


# -- questions from serialized_space ------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    text: str
    source: str       # sample_question | benchmark
    ref: str | None   # the item's id in serialized_space


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = " ".join(str(v) for v in value if isinstance(v, str))
    return value.strip() if isinstance(value, str) else ""


def space_questions(space: dict[str, Any]) -> list[Question]:
    """The space's sample questions, then its benchmark questions (genie-api.md §2.5), without repeats. Whatever is
    not shaped so (a serialized_space that is not a JSON object, a section or item of another type, a question that
    is not text or is empty) gives no question: :func:`unusable_serialized_space` says why a space has none."""
    try:
        raw = parse(space.get("serialized_space"))
    except ValueError:
        return []
    out: list[Question] = []
    seen: set[str] = set()
    for source, path in (("sample_question", ("config", "sample_questions")), ("benchmark", ("benchmarks", "questions"))):
        for item in items_of(raw, path):
            text = _text(item.get("question"))
            if text and text not in seen:
                seen.add(text)
                out.append(Question(text, source, item.get("id") if isinstance(item.get("id"), str) else None))
    return out


def unusable_serialized_space(space: dict[str, Any]) -> str | None:
    """Why the space's ``serialized_space`` cannot be read at all (None when it can, or when there is none)."""
    try:
        parse(space.get("serialized_space"))
    except ValueError as exc:
        return str(exc)
    return None


# -- pacing ---------------------------------------------------------------------------------------------
class QuestionPacer:
    """At most ``limit`` questions in any ``window_s`` seconds (Genie's per-workspace questions-per-minute limit)."""

    def __init__(self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.limit, self.window_s, self._clock, self._sleep = limit, window_s, clock, sleep
        self._sent: deque[float] = deque()
        self.waited_s = 0.0

    def wait(self) -> float:
        """Block until one more question may be sent; returns the seconds waited."""
        waited = 0.0
        while True:
            now = self._clock()
            while self._sent and self._sent[0] <= now - self.window_s:
                self._sent.popleft()
            if len(self._sent) < self.limit:
                self.waited_s += waited
                return waited
            pause = self._sent[0] + self.window_s - now
            self._sleep(pause)
            waited += pause

    def sent(self) -> None:
        self._sent.append(self._clock())


# -- the generator --------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What one generation did (the figures the command prints and the job shows)."""

    generation_id: str
    workspace_id: str
    spaces: list[str] = field(default_factory=list)
    skipped_spaces: dict[str, str] = field(default_factory=dict)  # space id -> why (no questions, unreadable)
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def asked(self) -> int:
        return sum(r["message_id"] is not None for r in self.rows)

    def count(self, **match: Any) -> int:
        return sum(all(r[k] == v for k, v in match.items()) for r in self.rows)

    def by_status(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            key = r["final_status"] or ("TIMEOUT" if r["timed_out"] else f"ERROR {r['error_type']}")
            out[key] = out.get(key, 0) + 1
        return dict(sorted(out.items()))


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


class Generator:
    def __init__(self, reader: GenieClient, asker: GenieClient, opts: GenerateOptions, *, asked_as: str,
                 generation_id: str, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], dt.datetime] = utc_now,
                 log: Callable[[str], None] = lambda _: None):
        """``clock``/``sleep`` pace questions and polls (inject a fake pair in tests, with the clients' own);
        ``now`` stamps the rows. ``reader`` reads spaces (the ingestion principal); ``asker`` asks and polls."""
        self.reader, self.asker, self.opts = reader, asker, opts
        self.asked_as, self.generation_id = asked_as, generation_id
        self._clock, self._sleep, self._now, self._log = clock, sleep, now, log
        self.pacer = QuestionPacer(opts.questions_per_minute, 60.0, clock, sleep)
        self._known: set[str] = set()  # conversation and message ids already ours (never adopted twice)

    # -- spaces -----------------------------------------------------------------------------------------
    def space_ids(self, allow_list: Sequence[str]) -> list[str]:
        if self.opts.space_ids:
            return list(dict.fromkeys(self.opts.space_ids))
        if allow_list:
            return list(allow_list)
        try:
            return [s["space_id"] for s in self.reader.list_spaces() if isinstance(s.get("space_id"), str)]
        except E.GenieApiError as exc:
            raise GenerateError(f"cannot list the spaces of workspace {self.opts.workspace_id} (no --space given and "
                                f"no allow list): {exc}") from None

    def run(self, space_ids: Iterable[str], sink: Callable[[list[dict[str, Any]]], None] | None = None) -> Outcome:
        """Ask in every space; ``sink`` gets each conversation's rows as soon as it is done (a crash loses at most one)."""
        out = Outcome(self.generation_id, self.opts.workspace_id)
        for space_id in space_ids:
            try:
                space = self.reader.get_space(space_id, include_serialized_space=True)
            except E.GenieApiError as exc:
                out.skipped_spaces[space_id] = f"cannot read the space: {exc}"
                self._log(f"space {space_id}: skipped, {out.skipped_spaces[space_id]}")
                continue
            pool = space_questions(space)
            if not pool:
                unusable = unusable_serialized_space(space)
                out.skipped_spaces[space_id] = (f"its serialized_space cannot be read: {unusable}" if unusable else
                                                "serialized_space has no sample questions or benchmarks")
                self._log(f"space {space_id}: skipped, {out.skipped_spaces[space_id]}")
                continue
            out.spaces.append(space_id)
            per_conversation = 1 + self.opts.follow_ups
            for n in range(1, self.opts.questions + 1):
                turns = [pool[((n - 1) * per_conversation + t) % len(pool)] for t in range(per_conversation)]
                rows = self.conversation(space_id, n, turns)
                out.rows.extend(rows)
                if sink is not None:
                    sink(rows)
        return out

    def conversation(self, space_id: str, number: int, turns: Sequence[Question]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        conversation_id: str | None = None
        for turn, question in enumerate(turns):
            row = self.ask(space_id, number, turn, conversation_id, question)
            rows.append(row)
            conversation_id = row["conversation_id"]
            self._log(f"space {space_id} conversation {number} turn {turn}: {row['final_status'] or row['error_type'] or 'TIMEOUT'} "
                      f"message {row['message_id']} ({row['polls']} poll(s))")
            if conversation_id is None or row["final_status"] is None:
                break  # no conversation to follow up in, or Genie still working on it: stop this conversation
        return rows

    # -- one question -----------------------------------------------------------------------------------
    def ask(self, space_id: str, number: int, turn: int, conversation_id: str | None, q: Question) -> dict[str, Any]:
        row: dict[str, Any] = {
            "generation_id": self.generation_id, "workspace_id": self.opts.workspace_id, "space_id": space_id,
            "conversation_no": number, "turn": turn, "conversation_id": conversation_id, "message_id": None,
            "question": q.text, "question_source": q.source, "question_ref": q.ref, "asked_as": self.asked_as,
            "asked_at": None, "ask_ms": None, "throttle_wait_ms": None, "created_timestamp": None,
            "final_seen_at": None, "answer_ms": None, "polls": 0, "last_status": None, "final_status": None,
            "timed_out": False, "recovered": False, "error_type": None, "error_message": None, "recorded_at": None,
        }
        waited = self.pacer.wait()
        throttle_before = self.asker.budget.waited_s
        asked_at, t0 = self._now(), self._clock()
        row["asked_at"] = asked_at
        message: dict[str, Any] | None = None
        for attempt in (1, 2):
            try:
                message = self._post(space_id, conversation_id, q.text)
            except E.GenieApiError as exc:
                unsure = None
                if outcome_unknown(exc):
                    message, unsure = self._find(space_id, conversation_id, q.text, asked_at)
                    if message is not None:
                        row["recovered"] = True
                    elif attempt == 1 and unsure is None:  # not created: asking again cannot ask twice
                        self.pacer.sent()
                        self.pacer.wait()
                        continue
                if message is None:
                    why = f" (not asked again: {unsure})" if unsure else ""
                    row["error_type"], row["error_message"] = exc.error_type, (str(exc)[:800] + why)[:1000]
            break
        self.pacer.sent()
        row["ask_ms"] = int((self._clock() - t0) * 1000)
        row["throttle_wait_ms"] = int((waited + self.asker.budget.waited_s - throttle_before) * 1000)
        if message is not None:
            row["conversation_id"], row["message_id"] = message["conversation_id"], message["message_id"]
            row["created_timestamp"] = message.get("created_timestamp")
            row["last_status"] = message.get("status")
            self._known.update((message["conversation_id"], message["message_id"]))
            self.poll(row, t0)
        row["recorded_at"] = self._now()
        return row

    def _post(self, space_id: str, conversation_id: str | None, text: str) -> dict[str, Any]:
        if conversation_id is None:
            body = self.asker.start_conversation(space_id, text)
            msg = body.get("message") if isinstance(body.get("message"), dict) else {}
            return _message(msg, body["conversation_id"], body["message_id"])
        body = self.asker.create_message(space_id, conversation_id, text)
        return _message(body, conversation_id, body.get("message_id") or body["id"])

    def _find(self, space_id: str, conversation_id: str | None, text: str,
              asked_at: dt.datetime) -> tuple[dict[str, Any] | None, str | None]:
        """The message a lost POST may have created: the asker's own, with this exact text, not one we already
        have, created no earlier than the POST (less clock slack); else None and, when it may exist all the same
        (looking failed, or an item of this text has no usable id or creation time), why it cannot be told."""
        not_before = _ms(asked_at) - LOOKUP_SLACK_MS
        unsure = None
        try:
            conversations = [conversation_id] if conversation_id else []
            for c in [] if conversation_id else self.asker.list_conversations(space_id, include_all=False):
                if not isinstance(c, dict) or c.get("title") != text:
                    continue
                if not _hex(c.get("conversation_id")) or not _created(c):
                    unsure = "a conversation listed with this question has no usable id or creation time"
                elif c["conversation_id"] not in self._known and _created(c) >= not_before:
                    conversations.append(c["conversation_id"])
            for cid in conversations:
                for m in self.asker.list_conversation_messages(space_id, cid):
                    if not isinstance(m, dict) or m.get("content") != text:
                        continue
                    mid = m.get("message_id") or m.get("id")
                    if not _hex(mid) or not _created(m):
                        unsure = "a message listed with this question has no usable id or creation time"
                    elif mid not in self._known and _created(m) >= not_before:
                        return _message(m, cid, mid), None
        except E.GenieApiError as exc:
            self._log(f"space {space_id}: could not look for a question whose answer was lost: {exc}")
            return None, f"looking for it failed ({exc.error_type})"
        return None, unsure

    def poll(self, row: dict[str, Any], t0: float) -> None:
        """GET the message until a final status or the timeout, backing off from 1 s to 60 s between polls."""
        delay, deadline = FIRST_POLL_S, t0 + self.opts.poll_timeout_s
        while True:
            if row["last_status"] in FINAL:
                row["final_status"], row["final_seen_at"] = row["last_status"], self._now()
                row["answer_ms"] = int((self._clock() - t0) * 1000)
                return
            if self._clock() >= deadline:
                row["timed_out"] = True
                return
            self._sleep(min(delay, max(0.0, deadline - self._clock())))
            delay = min(MAX_POLL_S, delay * 2)
            try:
                msg = self.asker.get_message(row["space_id"], row["conversation_id"], row["message_id"])
            except E.GenieApiError as exc:
                row["polls"] += 1
                row["error_type"], row["error_message"] = exc.error_type, str(exc)[:1000]
                if exc.permanent:
                    return
                continue  # transient (the client already retried): poll again after the next back-off
            row["polls"] += 1
            row["error_type"] = row["error_message"] = None
            row["last_status"] = msg.get("status")


def _hex(value: Any) -> bool:
    return isinstance(value, str) and bool(HEX32.match(value))


def _created(item: dict[str, Any]) -> int:
    """``created_timestamp`` (epoch ms) when it is one, else 0 (never recent enough to be taken for ours)."""
    value = item.get("created_timestamp")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _message(body: dict[str, Any], conversation_id: str, message_id: str) -> dict[str, Any]:
    """What the generator keeps of a message in an answer: its ids, a status that is text, a creation time that is
    epoch milliseconds (a field of another type is dropped, not stored: the poll reads the checked message)."""
    status = body.get("status")
    return {"conversation_id": conversation_id, "message_id": message_id,
            "status": status if isinstance(status, str) else None,
            "created_timestamp": _created(body) or None}


# -- wiring helpers shared by the job and the command ------------------------------------------------------
def asker_client(settings: Settings, opts: GenerateOptions, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> tuple[GenieClient, str]:
    """The test asker's client for the workspace and its client id (the identity the audit log shows).

    Raises :class:`OptionsError` when the variables are unset or name the ingestion principal itself."""
    ws, api = settings.workspace(opts.workspace_id), settings.api_for(opts.workspace_id)
    try:
        client_id = resolve_secret(SecretRef(env=opts.asker_client_id_env))
        secret = resolve_secret(SecretRef(env=opts.asker_client_secret_env))
    except E.GenieApiError:
        raise OptionsError([
            f"the test asker's credentials are not set: environment variables {opts.asker_client_id_env} and "
            f"{opts.asker_client_secret_env} must hold the OAuth client id and secret of a service principal other "
            "than the ingestion principal (asker_client_id_env / asker_client_secret_env name other variables)"]) from None
    if client_id == settings.ingestion_principal.identity:
        raise OptionsError([
            f"{opts.asker_client_id_env} names the ingestion principal ({client_id}); its events are the product's own "
            "reads and the audit path ignores them by design (README 'Who asked?'), so its questions would never be "
            "found: use a service principal of its own for test questions"])
    tokens = OAuthTokenSource(ws.url, client_id, secret, http_timeout_s=api.timeout_s)
    client = GenieClient(opts.workspace_id, ws.url, tokens,
                         ClientSettings(rate_per_s=api.rate_per_s, concurrency=1, timeout_s=api.timeout_s,
                                        max_attempts=api.max_attempts), sleep=sleep, clock=clock)
    return client, client_id


def generate(settings: Settings, opts: GenerateOptions, reader: GenieClient, asker: GenieClient, asked_as: str, *,
             generation_id: str | None = None, sink: Callable[[list[dict[str, Any]]], None] | None = None,
             clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
             now: Callable[[], dt.datetime] = utc_now,
             log: Callable[[str], None] = lambda _: None) -> Outcome:
    """Validate, then ask in each chosen space (see the module docstring)."""
    validate(settings, opts)
    gen = Generator(reader, asker, opts, asked_as=asked_as, generation_id=generation_id or uuid.uuid4().hex,
                    clock=clock, sleep=sleep, now=now, log=log)
    spaces = gen.space_ids(settings.workspace(opts.workspace_id).space_ids)
    return gen.run(spaces, sink)


def rows_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Rows of ``generated_conversations`` in DDL order (a column more or less than the DDL fails loudly)."""
    schema = sqlmod.ddl_arrow_schema(TABLE)
    return pa.Table.from_pylist([conform(r, schema, TABLE) for r in rows], schema=schema)


# -- the check ------------------------------------------------------------------------------------------
CHECK_SQL = "lifecycle/conversations/generated_messages_status"


def why_not_found(r: dict[str, Any]) -> str | None:
    """Why a generated message is not (yet) in message_details with the final status the generator saw; None if it is."""
    if r["fetched_status"] is not None and r["fetched_is_final"] and (
            r["generated_status"] is None or r["fetched_status"] == r["generated_status"]):
        return None
    if r["fetched_status"] is not None:
        if not r["fetched_is_final"]:
            return f"fetched while still {r['fetched_status']}: waiting for the refetch of messages not final yet"
        return f"fetched with status {r['fetched_status']}, the generator saw {r['generated_status']}"
    if r["fetch_error_type"] is not None and not r["fetch_error_resolved"]:
        kind = "permanent" if r["fetch_error_permanent"] else "retried by later runs"
        return f"fetch failed: {r['fetch_error_type']} ({kind}, see message_fetch_errors)"
    if r["listed_first_seen_date"] is not None:
        return (f"listed in genie_messages_to_fetch for {r['listed_first_seen_date']} but not fetched yet "
                "(run genie_ingest for that day)")
    if r["bronze_rows"]:
        if not r["person_rows"]:
            return ("its audit rows are all the ingestion principal's, which the audit path ignores "
                    f"(asked as {r['asked_as']})")
        return "in genie_audit_events but not in genie_messages_to_fetch (run the audit layer for its day)"
    if r["audit_rows"]:
        return (f"audit rows arrived ({r['audit_rows']}, from {r['first_audit_date']}) but are not loaded into "
                "genie_audit_events yet (run genie_ingest for that day)")
    return "audit rows not arrived yet in system.access.audit (Databricks delivers them with a delay)"


@dataclass(frozen=True)
class CheckFinding:
    workspace_id: str
    message_id: str
    space_id: str
    question: str
    reason: str

    @property
    def in_flight(self) -> bool:
        return self.reason.startswith("audit rows not arrived")

    def line(self) -> str:
        return f"workspace {self.workspace_id} message {self.message_id} (space {self.space_id}): {self.reason}"


def check_generated(rows_by_workspace: dict[str, list[dict[str, Any]]]) -> tuple[int, list[CheckFinding]]:
    """(messages checked, findings for each one not found) from ``CHECK_SQL``'s rows per workspace."""
    checked, findings = 0, []
    for ws, rows in rows_by_workspace.items():
        for r in rows:
            checked += 1
            reason = why_not_found(r)
            if reason is not None:
                findings.append(CheckFinding(ws, r["message_id"], r["space_id"], r["question"], reason))
    return checked, findings


def summary_lines(out: Outcome) -> Iterator[str]:
    statuses = ", ".join(f"{k} {v}" for k, v in out.by_status().items()) or "nothing asked"
    yield (f"generation {out.generation_id}: workspace {out.workspace_id}, {len(out.spaces)} space(s), "
           f"{len(out.rows)} question(s): {statuses}")
    for sid, why in out.skipped_spaces.items():
        yield f"  space {sid} skipped: {why}"
    for r in out.rows:
        status = r["final_status"] or ("TIMEOUT (last " + str(r["last_status"]) + ")" if r["timed_out"]
                                       else f"{r['error_type']}: {r['error_message']}")
        yield (f"  space {r['space_id']} conversation {r['conversation_id']} message {r['message_id']} "
               f"turn {r['turn']}: {status}")
