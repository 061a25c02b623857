"""The automation's decisions: which runs the audit sensor requests, and when the marts are rebuilt.

The partitions are the bookkeeping: on every tick the sensor compares, for each (workspace, day) of the
last ``automation.lookback_days`` days, the source audit log with bronze (``sql/automation``). A day
whose counts differ needs a run, whatever the reason: rows delivered since the last run, rows of an old
day arriving late, a day the scheduler never ran. Nobody edits a lookback and a failed run is not
forgotten, because the difference is still there on the next tick.

The days before that window (from the history start) are checked too, by one grouped statement at most
once per clock hour (``GAP_CHECK_EVERY_S``): a day whose source holds more aibiGenie rows than bronze is a
gap (the scheduler was down longer than the window, a workspace was added without its initial load, rows
arrived after their day left the window) and is requested like a day of the window. Bronze holding more
rows than the source (retention expired there) is not a gap.

Messages are a second source of work: a message that is not final yet, or whose fetch failed with a
retryable error, or that was listed but never fetched, is fetched again by a fetch-only run, with a
wait that doubles per attempt (``retry_after_s`` up to ``max_retry_interval_s``).

A workspace with a run in progress (the sensor's, a backfill's, a schedule's, a click in the UI) is left
alone until that run ends: it may be handling the very difference seen. The cursor (small JSON) only
remembers, per difference still open, what the sensor asked for and how often: an unchanged difference
is asked for at most ``max_attempts`` times, so a run that keeps failing on the same data waits for the
nightly reconciliation or an operator instead of looping. Run keys make every request idempotent; a
lost cursor costs at most one more run per open difference.

A workspace's days that need work become runs over contiguous blocks of days: two days needing work share
a run when at most ``MAX_IDLE_DAYS_IN_RUN`` days needing nothing lie between them, so a gap 80 days back
and today make two short runs, not one 80-day run. The runs of one workspace queue one after the other
(the run queue's per-workspace limit) and the sensor leaves the workspace alone until all have ended.

The marts and the dashboard are not the sensor's business: they follow the base tables through a
declarative automation condition (``marts_condition``, evaluated by the ``genie_marts_sensor``).

Everything here is plain Python over rows (and one condition), so the tests drive it directly; ``sensors.py``
and ``schedules.py`` are the thin Dagster wiring, and ``code_location.py`` puts it all together.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import dagster as dg

from .partitions import partition_key
from .settings import AutomationSettings, Settings
from .warehouse import Warehouse

WORKSPACE_TAG = "genie_obs/workspace"
TRIGGER_TAG = "genie_obs/trigger"
REASON_TAG = "genie_obs/reason"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
WORKSPACE_PARTITION_TAG = "dagster/partition/workspace"

INGEST_JOB = "genie_ingest"
SPACE_JOB = "genie_space_refresh"
MARTS_JOB = "genie_marts"
FETCH_ASSETS = (dg.AssetKey("message_details"), dg.AssetKey("message_fetch_errors"))
FRESHNESS_GROUPS = ("genie_audit", "genie_api")
# Every ingest asset is materialized at least nightly (reconciliation, space refresh); a quiet weekend day
# still stays under 26 hours. Breaching it means the sensor and the schedules both stopped working.
FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=26))
CURSOR_VERSION = 1
# The gap check (sql/automation/audit_gaps.sql, the days before the watch window) runs on the first tick of
# each period of this many seconds (clock-aligned: at most once per UTC hour), not on every tick: it scans
# the whole history of the source's aibiGenie rows. Gaps are old days, so an hour's delay costs nothing.
GAP_CHECK_EVERY_S = 3600
# Days needing work that are at most this many days needing nothing apart share one run (reprocessing a
# few idle days in a range run costs less than another run); further apart, they get runs of their own.
MAX_IDLE_DAYS_IN_RUN = 6
# At most this many runs per workspace and tick: beyond it the closest blocks of days are merged.
MAX_RUNS_PER_WORKSPACE = 4


# -- observations ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditPartition:
    """Source vs bronze for one (workspace, day), from ``sql/automation/audit_partition_state.sql``."""

    workspace_id: str
    day: dt.date
    source_rows: int
    source_last_event: dt.datetime | None
    bronze_rows: int
    bronze_last_event: dt.datetime | None

    @property
    def in_sync(self) -> bool:
        return (self.source_rows, _utc(self.source_last_event)) == (self.bronze_rows, _utc(self.bronze_last_event))

    @property
    def signature(self) -> str:
        """What the source holds: a run requested for this signature has seen exactly this data."""
        last = _utc(self.source_last_event)
        return f"{self.source_rows}@{int(last.timestamp() * 1_000_000) if last else 0}"


@dataclass(frozen=True)
class FetchGroup:
    """Open messages of one (workspace, first-seen day, state, attempts), from ``messages_due_for_fetch``."""

    workspace_id: str
    day: dt.date
    state: str  # pending | retryable | unfetched
    attempts: int
    messages: int
    last_attempt_at: dt.datetime | None

    def due_at(self, auto: AutomationSettings) -> dt.datetime | None:
        """When these messages may be fetched again (None: now). The wait doubles per attempt."""
        last = _utc(self.last_attempt_at)
        if last is None or self.attempts <= 0:
            return None
        wait = min(auto.retry_after_s * 2 ** (self.attempts - 1), auto.max_retry_interval_s)
        return last + dt.timedelta(seconds=wait)

    def is_due(self, now: dt.datetime, auto: AutomationSettings) -> bool:
        at = self.due_at(auto)
        return at is None or at <= now


@dataclass(frozen=True)
class Observation:
    """One tick's view. ``gaps``: days before the window whose source has more rows than bronze, found by
    ``audit_gaps.sql`` over ``gap_range`` (history start .. window start - 1; None when the window starts at
    the history start) when ``gaps_checked``; ``unloaded``: workspaces with no bronze row in that range."""

    window: tuple[dt.date, dt.date]
    audit: tuple[AuditPartition, ...]
    fetch: tuple[FetchGroup, ...]
    gaps: tuple[AuditPartition, ...] = ()
    gap_range: tuple[dt.date, dt.date] | None = None
    gaps_checked: bool = False
    unloaded: frozenset[str] = frozenset()


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    if t is None:
        return None
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


def watch_window(settings: Settings, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last ``lookback_days`` days up to today, never before the first partition."""
    start = max(today - dt.timedelta(days=settings.automation.lookback_days - 1), settings.history.first_day(today))
    return start, today


def gap_range(settings: Settings, window: tuple[dt.date, dt.date]) -> tuple[dt.date, dt.date] | None:
    """The days before the watch window, from the history start (None: the window starts there)."""
    first = settings.history.first_day(window[1])
    return (first, window[0] - dt.timedelta(days=1)) if first < window[0] else None


def space_params(settings: Settings) -> dict[str, str]:
    """Allow lists as two flat parameters (values are validated ids: digits, and 32 hex characters)."""
    open_ws = [w.id for w in settings.workspaces if not w.space_ids]
    pairs = [f"{w.id}/{s}" for w in settings.workspaces for s in w.space_ids]
    return {"all_space_workspaces": ",".join(open_ws), "allowed_spaces": ",".join(pairs)}


def observe(wh: Warehouse, settings: Settings, window: tuple[dt.date, dt.date],
            check_gaps: bool = False) -> Observation:
    """Two aggregate queries over the window, plus (``check_gaps``) one over the days before it (one
    connection on the embedded back end). On a gap-check tick the messages due for a fetch are looked for since the
    history start too: a Genie API outage (or a fetch step that died) longer than the window must not leave the
    messages of days that have left it unfetched for ever."""
    start, end = window
    before = gap_range(settings, window)
    fetch_from = before[0] if check_gaps and before is not None else start
    audit_params = {"workspace_ids": ",".join(settings.workspace_ids),
                    "ingestion_principal": settings.ingestion_principal.identity, **space_params(settings)}
    gaps: list[dict] = []
    connect = getattr(wh, "connect", None)  # the embedded back end: one connection (one open) for the tick
    with connect() if connect is not None else contextlib.nullcontext():
        wh.ensure_schema()
        audit = wh.query("automation/audit_partition_state",
                         {**audit_params, "start_date": start, "end_date": end}).to_pylist()
        fetch = wh.query("automation/messages_due_for_fetch",
                         {"start_date": fetch_from, "end_date": end, **space_params(settings)}).to_pylist()
        if check_gaps and before is not None:
            gaps = wh.query("automation/audit_gaps",
                            {**audit_params, "start_date": before[0], "end_date": before[1]}).to_pylist()
    return Observation(
        window,
        tuple(_partition(r) for r in audit),
        tuple(FetchGroup(r["workspace_id"], r["first_seen_date"], r["state"], int(r["attempts"]), int(r["messages"]),
                         r["last_attempt_at"]) for r in fetch),
        gaps=tuple(_partition(r) for r in gaps),
        gap_range=before,
        gaps_checked=check_gaps and before is not None,
        unloaded=frozenset(r["workspace_id"] for r in gaps if int(r["workspace_bronze_days"]) == 0),
    )


def _partition(r: Mapping) -> AuditPartition:
    return AuditPartition(r["workspace_id"], r["event_date"], int(r["source_rows"]), r["source_last_event"],
                          int(r["bronze_rows"]), r["bronze_last_event"])


# -- cursor ---------------------------------------------------------------------------------------------
@dataclass
class SensorCursor:
    """``audit``: workspace -> day -> [signature, times requested]; ``fetch``: workspace -> [signature, times];
    ``gaps_at``: when the days before the window were last checked for gaps (ISO time, UTC).

    Only differences still open are kept, so the JSON stays small (empty when everything is current).
    """

    audit: dict[str, dict[str, list]] = field(default_factory=dict)
    fetch: dict[str, list] = field(default_factory=dict)
    gaps_at: str | None = None

    @classmethod
    def load(cls, text: str | None) -> SensorCursor:
        if not text:
            return cls()
        try:
            raw = json.loads(text)
        except ValueError:
            return cls()  # an unreadable cursor only costs a repeated request (run keys dedupe the rest)
        if not isinstance(raw, dict) or raw.get("v") != CURSOR_VERSION:
            return cls()
        gaps_at = raw.get("gaps_at")
        return cls(dict(raw.get("audit") or {}), dict(raw.get("fetch") or {}),
                   gaps_at if isinstance(gaps_at, str) else None)

    def dump(self) -> str:
        out: dict = {"v": CURSOR_VERSION, "audit": self.audit, "fetch": self.fetch}
        if self.gaps_at:
            out["gaps_at"] = self.gaps_at
        return json.dumps(out, sort_keys=True, separators=(",", ":"))

    def gap_check_due(self, now: dt.datetime, every_s: int = GAP_CHECK_EVERY_S) -> bool:
        """True on the first tick of each ``every_s`` period (clock-aligned), and when never checked."""
        last = _parse_time(self.gaps_at)
        return last is None or int(now.timestamp()) // every_s != int(last.timestamp()) // every_s


# -- planning -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedRun:
    """One run for one workspace over a contiguous range of days."""

    workspace_id: str
    start: dt.date
    end: dt.date
    fetch_only: bool
    audit_days: tuple[dt.date, ...]  # days of the watch window whose audit rows differ from bronze
    fetch_days: tuple[dt.date, ...]
    run_key: str
    gap_days: tuple[dt.date, ...] = ()  # days before the watch window with audit rows missing from bronze

    @property
    def trigger(self) -> str:
        if self.fetch_only:
            return "fetch-retry"
        return "audit" if self.audit_days else "audit-gap"

    def describe(self) -> str:
        parts = []
        if self.audit_days:
            parts.append("audit rows changed on " + ", ".join(d.isoformat() for d in self.audit_days))
        if self.gap_days:
            parts.append(f"audit rows missing from bronze on {day_ranges(self.gap_days)} (before the watch window)")
        if self.fetch_days:
            parts.append("messages to fetch again from " + ", ".join(d.isoformat() for d in self.fetch_days))
        return f"workspace {self.workspace_id} {self.start}..{self.end}: " + "; ".join(parts)

    def run_request(self) -> dg.RunRequest:
        tags = {
            RANGE_START_TAG: str(partition_key(self.workspace_id, self.start)),
            RANGE_END_TAG: str(partition_key(self.workspace_id, self.end)),
            WORKSPACE_TAG: self.workspace_id,
            TRIGGER_TAG: self.trigger,
            REASON_TAG: self.describe(),  # why the sensor asked, on the run's page in the UI
        }
        return dg.RunRequest(run_key=self.run_key, tags=tags,
                             asset_selection=list(FETCH_ASSETS) if self.fetch_only else None)


GAP_REQUESTED, GAP_WAITING, GAP_GAVE_UP = "requested", "waiting", "gave up"


@dataclass
class Plan:
    runs: list[PlannedRun]
    cursor: SensorCursor
    in_sync: int = 0
    waiting_for_runs: list[str] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)
    next_retry_at: dt.datetime | None = None
    # Days before the watch window with audit rows missing from bronze: workspace -> outcome -> days.
    gaps: dict[str, dict[str, list[dt.date]]] = field(default_factory=dict)
    gap_range: tuple[dt.date, dt.date] | None = None
    gaps_checked: bool = False
    unloaded: frozenset[str] = frozenset()

    @property
    def gap_days(self) -> int:
        return sum(len(days) for by in self.gaps.values() for days in by.values())

    def gap_summary(self) -> str | None:
        """What the tick knows of the days before the watch window (None: the window starts at the history)."""
        if self.gaps:
            parts = []
            for ws, by in sorted(self.gaps.items()):
                for outcome, days in by.items():
                    text = f"workspace {ws} {day_ranges(days)}"
                    if outcome == GAP_REQUESTED and ws in self.unloaded:
                        text += (" (its history was never loaded: no day before the watch window is in bronze; "
                                 "requested its history)")
                    elif outcome == GAP_REQUESTED:
                        text += " (requested)"
                    elif outcome == GAP_WAITING:
                        text += " (waiting for its runs in progress; asked again at the next check)"
                    else:
                        text += " (not requested: asked max_attempts times)"
                    parts.append(text)
            return (f"found {self.gap_days} day(s) before the watch window with audit rows missing from bronze: "
                    + "; ".join(parts))
        if self.gap_range is None:
            return None
        span = f"{self.gap_range[0]}..{self.gap_range[1]}"
        if self.gaps_checked:
            return f"no audit rows missing from bronze in {span} (before the watch window, checked now)"
        last = _parse_time(self.cursor.gaps_at)
        when = f"at {last:%Y-%m-%d %H:%M} UTC" if last else "not yet"
        return (f"{span} (before the watch window) last checked for missing audit rows {when}; checked every "
                f"{GAP_CHECK_EVERY_S // 60} min")

    def summary(self, window: tuple[dt.date, dt.date]) -> str:
        lines = [f"{self.in_sync} partition(s) of {window[0]}..{window[1]} match the source"]
        gaps = self.gap_summary()
        if gaps:
            lines.append(gaps)
        if self.runs:
            lines.append(f"requested {len(self.runs)} run(s): " + " | ".join(r.describe() for r in self.runs))
        if self.waiting_for_runs:
            lines.append("waiting for runs in progress: workspace " + ", ".join(sorted(self.waiting_for_runs)))
        if self.next_retry_at:
            lines.append(f"next message fetch retry due at {self.next_retry_at:%Y-%m-%d %H:%M} UTC")
        if self.gave_up:
            lines.append("asked max_attempts times without success (nightly reconciliation or a manual run will "
                         "retry): " + "; ".join(self.gave_up))
        return "; ".join(lines)

    def _gap(self, workspace_id: str, outcome: str, day: dt.date) -> None:
        self.gaps.setdefault(workspace_id, {}).setdefault(outcome, []).append(day)


def _next_count(prev: Sequence | None, signature: str) -> int:
    return int(prev[1]) + 1 if prev and prev[0] == signature else 1


def _parse_time(text: str | None) -> dt.datetime | None:
    try:
        return _utc(dt.datetime.fromisoformat(text)) if text else None
    except ValueError:
        return None


def day_ranges(days: Iterable[dt.date]) -> str:
    """Days as ranges of consecutive days: ``2026-01-03..2026-01-14, 2026-01-20``."""
    out: list[list[dt.date]] = []
    for d in sorted(set(days)):
        if out and (d - out[-1][-1]).days == 1:
            out[-1].append(d)
        else:
            out.append([d])
    return ", ".join(str(b[0]) if len(b) == 1 else f"{b[0]}..{b[-1]}" for b in out)


def blocks_of_days(days: Iterable[dt.date], max_idle: int = MAX_IDLE_DAYS_IN_RUN,
                   max_blocks: int = MAX_RUNS_PER_WORKSPACE) -> list[list[dt.date]]:
    """Days needing work as runs: consecutive ones share a run when at most ``max_idle`` days needing nothing
    lie between them; beyond ``max_blocks`` blocks the two closest are merged until it fits."""
    blocks: list[list[dt.date]] = []
    for d in sorted(set(days)):
        if blocks and (d - blocks[-1][-1]).days - 1 <= max_idle:
            blocks[-1].append(d)
        else:
            blocks.append([d])
    while len(blocks) > max_blocks:
        i = min(range(len(blocks) - 1), key=lambda i: (blocks[i + 1][0] - blocks[i][-1], i))
        blocks[i : i + 2] = [blocks[i] + blocks[i + 1]]
    return blocks


def plan_runs(obs: Observation, cursor: SensorCursor, in_flight: set[str], now: dt.datetime,
              auto: AutomationSettings) -> Plan:
    """Decide the runs of one tick: per workspace, one run per block of days that need work (see
    ``blocks_of_days``), covering every day of the window and every gap before it that needs work."""
    out = Plan([], SensorCursor(), gap_range=obs.gap_range, gaps_checked=obs.gaps_checked, unloaded=obs.unloaded)
    audit_days: dict[str, dict[dt.date, list]] = defaultdict(dict)
    gave_up_days: dict[str, list[dt.date]] = defaultdict(list)
    for p in (*obs.audit, *obs.gaps):
        gap = p.day < obs.window[0]
        if p.in_sync:
            out.in_sync += 0 if gap else 1
            continue
        day_key = p.day.isoformat()
        prev = cursor.audit.get(p.workspace_id, {}).get(day_key)
        if p.workspace_id in in_flight:  # its run may be handling this very difference: look again later
            if prev:
                out.cursor.audit.setdefault(p.workspace_id, {})[day_key] = prev
            _add(out.waiting_for_runs, p.workspace_id)
            if gap:
                out._gap(p.workspace_id, GAP_WAITING, p.day)
            continue
        count = _next_count(prev, p.signature)
        if count > auto.max_attempts:
            out.cursor.audit.setdefault(p.workspace_id, {})[day_key] = list(prev or [])
            gave_up_days[p.workspace_id].append(p.day)
            if gap:
                out._gap(p.workspace_id, GAP_GAVE_UP, p.day)
            continue
        entry = [p.signature, count]
        out.cursor.audit.setdefault(p.workspace_id, {})[day_key] = entry
        audit_days[p.workspace_id][p.day] = entry
        if gap:
            out._gap(p.workspace_id, GAP_REQUESTED, p.day)
    for ws, days in sorted(gave_up_days.items()):
        out.gave_up.append(f"workspace {ws} {day_ranges(days)} (audit)")

    if obs.gaps_checked:
        out.cursor.gaps_at = _utc(now).isoformat()  # type: ignore[union-attr]
    else:  # not checked this tick: what the last check found before the window stays open
        out.cursor.gaps_at = cursor.gaps_at
        for ws, days in cursor.audit.items():
            for day_key, entry in days.items():
                with contextlib.suppress(ValueError):
                    day = dt.date.fromisoformat(day_key)
                    if obs.gap_range and obs.gap_range[0] <= day <= obs.gap_range[1]:
                        out.cursor.audit.setdefault(ws, {})[day_key] = entry

    fetch_days: dict[str, set[dt.date]] = defaultdict(set)
    fetch_sigs: dict[str, list] = {}
    by_ws: dict[str, list[FetchGroup]] = defaultdict(list)
    for g in obs.fetch:
        by_ws[g.workspace_id].append(g)
    for ws, groups in sorted(by_ws.items()):
        # The state of the workspace's open messages; a run that fetched anything changes it.
        signature = f"{sum(g.messages for g in groups)}/{sum(g.messages * g.attempts for g in groups)}"
        prev = cursor.fetch.get(ws)
        due = [g for g in groups if g.is_due(now, auto)]
        later = [at for g in groups if (at := g.due_at(auto)) is not None and at > now]
        if later:
            out.next_retry_at = min([t for t in (out.next_retry_at, *later) if t is not None])
        if ws in in_flight or not due:
            if prev and prev[0] == signature:
                out.cursor.fetch[ws] = prev
            if ws in in_flight:
                _add(out.waiting_for_runs, ws)
            continue
        count = _next_count(prev, signature)
        if count > auto.max_attempts:
            out.cursor.fetch[ws] = list(prev or [])
            out.gave_up.append(f"workspace {ws} (message fetch)")
            continue
        fetch_sigs[ws] = out.cursor.fetch[ws] = [signature, count]
        fetch_days[ws] = {g.day for g in due}

    for ws in sorted(set(audit_days) | set(fetch_days)):
        changed, fetch = audit_days.get(ws, {}), fetch_days.get(ws, set())
        # Newest block first: the run queue starts a workspace's runs in order, so recent days are fresh soonest.
        for block in reversed(blocks_of_days(set(changed) | fetch)):
            start, end = block[0], block[-1]
            block_audit = {d: v for d, v in sorted(changed.items()) if start <= d <= end}
            block_fetch = sorted(d for d in fetch if start <= d <= end)
            fingerprint = json.dumps({"a": {d.isoformat(): v for d, v in block_audit.items()},
                                      "f": fetch_sigs.get(ws) if block_fetch else None}, sort_keys=True)
            digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
            out.runs.append(PlannedRun(
                ws, start, end, fetch_only=not block_audit,
                audit_days=tuple(d for d in block_audit if d >= obs.window[0]), fetch_days=tuple(block_fetch),
                run_key=f"{ws}:{start}:{end}:{digest}",
                gap_days=tuple(d for d in block_audit if d < obs.window[0]),
            ))
    return out


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


# -- runs in progress -----------------------------------------------------------------------------------
def workspaces_of_run(tags: Mapping[str, str], workspace_ids: Sequence[str]) -> set[str]:
    """The workspaces a run works on, from its tags (ours, Dagster's partition tags, or a range)."""
    known = set(workspace_ids)
    if tags.get(WORKSPACE_TAG) in known:
        return {tags[WORKSPACE_TAG]}
    if tags.get(WORKSPACE_PARTITION_TAG) in known:
        return {tags[WORKSPACE_PARTITION_TAG]}
    part = tags.get(PARTITION_TAG)
    if part:
        ws = part.split("|")[-1]
        return {ws} & known
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if start and end:
        a, b = start.split("|")[-1], end.split("|")[-1]
        if a == b:
            return {a} & known
        if a in known and b in known:  # a range across workspaces covers those between them (static order)
            i, j = sorted((workspace_ids.index(a), workspace_ids.index(b)))
            return set(workspace_ids[i : j + 1])
    return set()


def workspaces_in_flight(runs_tags: Iterable[Mapping[str, str]], workspace_ids: Sequence[str]) -> set[str]:
    busy: set[str] = set()
    for tags in runs_tags:
        busy |= workspaces_of_run(tags, workspace_ids)
    return busy


# -- the marts ------------------------------------------------------------------------------------------
# The marts and the dashboard are rebuilt at most once per period of this cron (UTC).
MARTS_CRON: str = AutomationSettings.model_fields["marts_cron"].default  # automation.marts_cron


def marts_condition(cron: str) -> dg.AutomationCondition:
    """When a mart (or the dashboard) is rebuilt: once something it reads has changed since it was last rebuilt (or
    requested), at most once per period of ``cron``, and only once nothing it reads is still being written.

    The parts, and why:

    - ``any_deps_updated().since_last_handled()``: follow the upstream. Nothing is rebuilt at rest (the hourly
      schedule this replaces rebuilt all 12 assets every hour for nothing), and a mart whose inputs did not change
      is left alone (the two configuration marts read only ``genie_space_details``, refreshed daily).
    - ``~any_deps_in_progress()``: a mart is rebuilt wholly from the partitioned base tables, so a rebuild while
      upstream partitions are still being written would be redone as soon as they land. Every partition an asset
      backfill has not written yet counts as in progress (an initial load of 90 days x N workspaces), and so does
      every partition of a queued or running run (the audit sensor's burst of one run per workspace): the marts
      wait for all of it, then are rebuilt once. Updates that landed meanwhile are remembered by the ``since``.
    - ``cron_tick_passed(cron).since_last_handled()``: at most one rebuild per period. Without it (``eager()``)
      every wave of sensor runs would be followed by a rebuild, every few minutes on a busy day, and each one holds
      the embedded DuckDB file (the audit sensor then skips its tick: "warehouse busy") or keeps a Databricks SQL
      warehouse from auto-stopping. A ceiling, not an appointment: once a period has begun without a rebuild, an
      upstream change is followed at the sensor's next tick.
    - ``~in_progress()``: not while a rebuild is under way, nor during a backfill that includes the marts (the
      initial load), which rebuilds them itself.

    Not ``on_cron()``: it waits until *every* dep has updated since the cron tick, and space details change once a
    day, so the marts would follow the audit log once a day. Not ``eager()``: besides the rate, its
    ``~any_deps_missing()`` looks at every partition of every base table (an unpartitioned asset depends on all of
    them), and a partition no run has written yet (today's until its first run, a new workspace's until its
    initial load) would hold every mart back; a mart rebuilds from whatever the tables hold. The cost of waiting
    for upstream work in progress: upstream runs following each other without a gap for hours would delay the marts
    as long (the audit sensor requests runs only for days that changed, so gaps are the rule).
    """
    return (
        dg.AutomationCondition.any_deps_updated().since_last_handled().with_label("inputs changed since last handled")
        & dg.AutomationCondition.cron_tick_passed(cron, "UTC").since_last_handled().with_label(
            f"a tick of {cron} (UTC) since last handled")
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label(f"rebuild after upstream changes, at most once per {cron} (UTC)")
