"""Semantic diff of two Genie space configurations (``serialized_space`` v2, genie-api.md 2.5), by section.

Used by ``genie-obs spaces promote --dry-run`` and by the ``mart_space_config_changes`` mart, so both say the same
thing about a change. Plain Python, no Dagster.

Matching rules, per section: items are matched by ``id`` first (an id used twice in a section identifies neither),
then items equal but for their ids; items left over on both sides are then matched by their natural key (a table's
or metric view's or SQL function's ``identifier``, a question's text, a join's left and right identifiers, a SQL
snippet's alias or display name). A section without a natural key (text instructions: Genie allows at most one)
pairs a single leftover item on each side. A matched pair whose content differs (ids and the order of arrays of ids
aside) is *changed*, with the fields that differ; unmatched items are *added* or *removed*. Order of items never
counts as a change (Genie sorts them by id).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def _lines(value: Any) -> str:
    """Text fields are arrays of lines in v2 (plain strings elsewhere): one string either way."""
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return "" if value is None else str(value)


def _join_key(item: Mapping[str, Any]) -> str | None:
    left, right = (side.get("identifier") if isinstance(side := item.get(k), Mapping) else None
                   for k in ("left", "right"))
    return f"{left} = {right}" if left and right else None


def _lower(field_name: str) -> Callable[[Mapping[str, Any]], str | None]:
    return lambda item: str(item[field_name]).lower() if item.get(field_name) else None


def _text(field_name: str) -> Callable[[Mapping[str, Any]], str | None]:
    return lambda item: _lines(item.get(field_name)).strip() or None


def _snippet_key(item: Mapping[str, Any]) -> str | None:
    key = item.get("alias") or item.get("display_name")
    return str(key) if key else None


@dataclass(frozen=True)
class Section:
    name: str                      # as shown in a diff and stored in the mart
    path: tuple[str, ...]          # where its list lives in serialized_space
    key: Callable[[Mapping[str, Any]], str | None] | None  # natural key (after id)
    label: Callable[[Mapping[str, Any]], str]              # how an item is named in a diff


def _short(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


SECTIONS: tuple[Section, ...] = (
    Section("tables", ("data_sources", "tables"), _lower("identifier"), lambda i: str(i.get("identifier"))),
    Section("metric_views", ("data_sources", "metric_views"), _lower("identifier"), lambda i: str(i.get("identifier"))),
    Section("text_instructions", ("instructions", "text_instructions"), None,
            lambda i: _short(_lines(i.get("content")))),
    Section("sample_questions", ("config", "sample_questions"), _text("question"), lambda i: _short(_lines(i.get("question")))),
    Section("example_sqls", ("instructions", "example_question_sqls"), _text("question"),
            lambda i: _short(_lines(i.get("question")))),
    Section("sql_functions", ("instructions", "sql_functions"), _lower("identifier"), lambda i: str(i.get("identifier"))),
    Section("join_specs", ("instructions", "join_specs"), _join_key, lambda i: _join_key(i) or str(i.get("id"))),
    Section("sql_filters", ("instructions", "sql_snippets", "filters"), _snippet_key,
            lambda i: str(_snippet_key(i) or _short(_lines(i.get("sql"))))),
    Section("sql_expressions", ("instructions", "sql_snippets", "expressions"), _snippet_key,
            lambda i: str(_snippet_key(i) or _short(_lines(i.get("sql"))))),
    Section("sql_measures", ("instructions", "sql_snippets", "measures"), _snippet_key,
            lambda i: str(_snippet_key(i) or _short(_lines(i.get("sql"))))),
    Section("benchmarks", ("benchmarks", "questions"), _text("question"), lambda i: _short(_lines(i.get("question")))),
)
SECTION_NAMES = tuple(s.name for s in SECTIONS)
SPACE_FIELDS = ("title", "description", "warehouse_id")  # the space's own settings (section "space")


@dataclass(frozen=True)
class Change:
    name: str
    fields: tuple[str, ...]  # top-level fields of the item that differ


@dataclass
class SectionDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_dict(self) -> dict[str, Any]:
        return {"added": list(self.added), "removed": list(self.removed),
                "changed": [{"name": c.name, "fields": list(c.fields)} for c in self.changed]}


@dataclass
class SpaceDiff:
    """What changed from ``old`` to ``new``: one :class:`SectionDiff` per section that differs."""

    sections: dict[str, SectionDiff]

    @property
    def empty(self) -> bool:
        return all(s.empty for s in self.sections.values())

    def count(self, kind: str) -> int:
        return sum(len(getattr(s, kind)) for s in self.sections.values())

    @property
    def changed_sections(self) -> list[str]:
        return [name for name, s in self.sections.items() if not s.empty]

    def as_dict(self) -> dict[str, Any]:
        """Only the sections that differ, in section order: ``{section: {added, removed, changed}}``."""
        return {name: s.as_dict() for name, s in self.sections.items() if not s.empty}

    def summary(self) -> str:
        """One line: ``tables +1 -0 ~1; benchmarks +2 -0 ~0`` (or ``no change``)."""
        parts = [f"{name} +{len(s.added)} -{len(s.removed)} ~{len(s.changed)}"
                 for name, s in self.sections.items() if not s.empty]
        return "; ".join(parts) or "no change"

    def lines(self) -> list[str]:
        """Human-readable, one item per line, by section."""
        out: list[str] = []
        for name, s in self.sections.items():
            if s.empty:
                continue
            out.append(f"{name}: {len(s.added)} added, {len(s.removed)} removed, {len(s.changed)} changed")
            out += [f"  + {n}" for n in s.added]
            out += [f"  - {n}" for n in s.removed]
            out += [f"  ~ {c.name} ({', '.join(c.fields)})" for c in s.changed]
        return out or ["no change"]


MAX_DEPTH = 64  # a real serialized_space nests about 6 levels; deeper is hostile (and would exhaust the stack)


def parse(serialized: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """``serialized_space`` as a dict (a JSON string as the API returns it, or already parsed). Anything else (another
    JSON type, not JSON, not text, nested deeper than :data:`MAX_DEPTH`) is a ``ValueError`` saying which."""
    if serialized is None or serialized == "":
        return {}
    if isinstance(serialized, Mapping):
        value: Any = dict(serialized)
    elif isinstance(serialized, str):
        try:
            value = json.loads(serialized)
        except RecursionError:
            raise ValueError("serialized_space is nested too deeply") from None
        if not isinstance(value, dict):
            raise ValueError(f"serialized_space is {json_kind(value)} in JSON, not an object")
    else:
        raise ValueError(f"serialized_space is {json_kind(serialized)}, not JSON text")
    if _depth(value) > MAX_DEPTH:
        raise ValueError(f"serialized_space is nested more than {MAX_DEPTH} levels deep")
    return value


def json_kind(value: Any) -> str:
    """What a JSON value is, in words: ``a string``, ``an array``, ..."""
    for kind, name in ((bool, "a boolean"), (str, "a string"), (int, "a number"), (float, "a number"),
                       (list, "an array"), (Mapping, "an object")):
        if isinstance(value, kind):
            return name
    return "null" if value is None else type(value).__name__


def _depth(value: Any) -> int:
    """How deep lists and objects nest in ``value`` (without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, Mapping):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if level <= MAX_DEPTH:
            stack.extend((child, level + 1) for child in children)
    return deepest


def items_of(space: Mapping[str, Any], path: Sequence[str]) -> list[dict[str, Any]]:
    node: Any = space
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return [i for i in node if isinstance(i, dict)] if isinstance(node, list) else []


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _without_ids(value: Any) -> Any:
    """Content without ``id`` keys, lists of id'd items sorted by their content (ids differ across spaces)."""
    if isinstance(value, Mapping):
        return {k: _without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        items = [_without_ids(v) for v in value]
        if value and all(isinstance(v, Mapping) and "id" in v for v in value):
            items.sort(key=_canonical)
        return items
    return value


def _changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    keys = sorted((set(old) | set(new)) - {"id"})
    return tuple(k for k in keys if _canonical(_without_ids(old.get(k))) != _canonical(_without_ids(new.get(k))))


def _id(item: Mapping[str, Any]) -> str | None:
    value = item.get("id")
    return value if isinstance(value, str) and value else None


def _unique_ids(items: list[dict[str, Any]]) -> set[str]:
    counts: dict[str, int] = {}
    for i in items:
        if (key := _id(i)) is not None:
            counts[key] = counts.get(key, 0) + 1
    return {k for k, n in counts.items() if n == 1}


def _match(section: Section, old: list[dict[str, Any]], new: list[dict[str, Any]]
           ) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(matched pairs, removed, added)."""
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    # Only an id that is text and unique on both sides identifies an item (duplicates fall back to the natural key).
    old_ids, new_ids = _unique_ids(old), _unique_ids(new)
    new_by_id = {i["id"]: i for i in new if _id(i) in new_ids}
    old_left, used = [], set()
    for o in old:
        n = new_by_id.get(o["id"]) if _id(o) in old_ids else None
        if n is not None and id(n) not in used:
            pairs.append((o, n))
            used.add(id(n))
        else:
            old_left.append(o)
    new_left = [n for n in new if id(n) not in used]
    # Then items equal but for their ids (also those without a natural key, e.g. a join whose side is malformed).
    by_content: dict[str, list[dict[str, Any]]] = {}
    for n in new_left:
        by_content.setdefault(_canonical(_without_ids(n)), []).append(n)
    still_old: list[dict[str, Any]] = []
    for o in old_left:
        same = by_content.get(_canonical(_without_ids(o)))
        if same:
            n = same.pop(0)
            pairs.append((o, n))
            used.add(id(n))
        else:
            still_old.append(o)
    old_left, new_left = still_old, [n for n in new_left if id(n) not in used]
    if section.key is not None:
        by_key: dict[str, list[dict[str, Any]]] = {}
        for n in new_left:
            k = section.key(n)
            if k is not None:
                by_key.setdefault(k, []).append(n)
        still: list[dict[str, Any]] = []
        for o in old_left:
            k = section.key(o)
            candidates = by_key.get(k, []) if k is not None else []
            if candidates:
                n = candidates.pop(0)
                pairs.append((o, n))
                used.add(id(n))
            else:
                still.append(o)
        old_left = still
        new_left = [n for n in new_left if id(n) not in used]
    elif len(old_left) == 1 and len(new_left) == 1:  # e.g. the one text instruction, rewritten
        pairs.append((old_left[0], new_left[0]))
        old_left, new_left = [], []
    return pairs, old_left, new_left


def diff_sections(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, SectionDiff]:
    out: dict[str, SectionDiff] = {}
    for section in SECTIONS:
        pairs, removed, added = _match(section, items_of(old, section.path), items_of(new, section.path))
        d = SectionDiff(added=sorted(section.label(i) for i in added),
                        removed=sorted(section.label(i) for i in removed))
        for o, n in pairs:
            fields = _changed_fields(o, n)
            if fields:
                d.changed.append(Change(section.label(n), fields))
        d.changed.sort(key=lambda c: c.name)
        out[section.name] = d
    return out


def diff_spaces(old: str | Mapping[str, Any] | None, new: str | Mapping[str, Any] | None,
                old_settings: Mapping[str, Any] | None = None, new_settings: Mapping[str, Any] | None = None) -> SpaceDiff:
    """The semantic diff of two ``serialized_space`` values (JSON strings or dicts). ``old_settings`` /
    ``new_settings`` (title, description, warehouse_id), when both are given, add a ``space`` section whose
    changed items are those fields."""
    sections = diff_sections(parse(old), parse(new))
    space = SectionDiff()
    if old_settings is not None and new_settings is not None:
        space.changed = [Change(f, (f,)) for f in SPACE_FIELDS
                         if (old_settings.get(f) or None) != (new_settings.get(f) or None)]
    return SpaceDiff({"space": space, **sections})


def config_change_rows(history: Sequence[Mapping[str, Any]], computed_at: Any) -> list[dict[str, Any]]:
    """Rows of ``genie_space_config_diffs``: one per configuration version after the first of each space, diffed
    against the version before it. ``history`` holds rows of ``genie_space_config_history`` in version order
    (workspace, space, first seen, hash: ``sql/lifecycle/spaces/config_history.sql``). A version whose
    serialized_space is not JSON diffs as an empty configuration."""

    def safe(raw: Any) -> dict[str, Any]:
        try:
            return parse(raw)
        except ValueError:
            return {}

    out: list[dict[str, Any]] = []
    previous: Mapping[str, Any] | None = None
    number = 0
    for row in history:
        if previous is None or (previous["workspace_id"], previous["space_id"]) != (row["workspace_id"], row["space_id"]):
            previous, number = row, 1
            continue
        number += 1
        d = diff_spaces(safe(previous.get("serialized_space")), safe(row.get("serialized_space")),
                        {f: previous.get(f) for f in SPACE_FIELDS}, {f: row.get(f) for f in SPACE_FIELDS})
        out.append({
            "workspace_id": row["workspace_id"], "space_id": row["space_id"], "to_config_hash": row["config_hash"],
            "from_config_hash": previous["config_hash"], "version_number": number, "space_title": row.get("title"),
            "changed_at": row.get("update_time") or row["first_seen_at"], "first_seen_at": row["first_seen_at"],
            "items_added": d.count("added"), "items_removed": d.count("removed"), "items_changed": d.count("changed"),
            "sections_changed": ", ".join(d.changed_sections) or None, "diff_summary": d.summary(),
            "diff_json": json.dumps(d.as_dict(), separators=(",", ":"), ensure_ascii=False), "computed_at": computed_at,
        })
        previous = row
    return out
