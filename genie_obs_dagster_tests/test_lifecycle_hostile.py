"""Hostile and malformed input to the space lifecycle commands (`genie-obs spaces promote|restore`): a source whose
`serialized_space` is not what genie-api.md 2.5 says, answers without an etag, remap rules meeting quoted names,
qualified columns and SQL stored as line pieces, backup files that are not the backup asked for. Each is refused with
a message naming the problem (exit 1, or 2 for an option) and writes nothing, or is handled exactly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from genie_obs_dagster.assets.space_lifecycle import backup_folder
from genie_obs_dagster.genie.spaces import config_hash
from genie_obs_dagster.lifecycle import backup as B
from genie_obs_dagster.lifecycle import promotion as P
from genie_obs_dagster.lifecycle.space_diff import config_change_rows, diff_spaces
from genie_obs_dagster.resources import GenieResource, open_warehouse
from genie_obs_dagster.sandbox.model import Space
from genie_obs_dagster.sandbox.server import WorkspaceFaults

from .conftest import WORKSPACES, ApiEnv
from .test_space_promotion import WAREHOUSE, make_tables, run_cli, sales_space, tables_of

SRC, DST = WORKSPACES


def rewrite_get_space(env: ApiEnv, workspace_id: str, space_id: str, change: Callable[[dict[str, Any]], Any]) -> None:
    """The workspace answers GET space ``space_id`` with ``change(its real answer)`` (bytes as is, else as JSON)."""
    def rewrite(kind: str, path: Any, body: bytes) -> bytes | None:
        if kind != "get_space" or path.get("space_id") != space_id:
            return None
        out = change(json.loads(body))
        return out if isinstance(out, bytes) else json.dumps(out).encode()

    env.sim.set_faults(workspace_id, WorkspaceFaults(requests_per_second=None, rewrite_body=rewrite))


def with_config(edit: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An answer whose serialized_space is the real one edited by ``edit`` (which changes it in place)."""
    def change(answer: dict[str, Any]) -> dict[str, Any]:
        config = json.loads(answer["serialized_space"])
        edit(config)
        return {**answer, "serialized_space": json.dumps(config)}
    return change


def _duplicate_table(c: dict[str, Any]) -> None:
    tables = c["data_sources"]["tables"]
    tables.append({**tables[1], "id": tables[0].get("id") or "0" * 32})
    tables[0].setdefault("id", "0" * 32)


# Answers the client's check of a space (genie/client.py: space_body_problem) already refuses: a failed read (1).
UNREADABLE_SOURCES: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("a number", lambda a: {**a, "serialized_space": 5}, "space fields that are not text: serialized_space"),
    ("nested 100000 deep", lambda a: {**a, "serialized_space": "[" * 100_000 + "]" * 100_000},
     "space serialized_space is nested too deeply to read"),
]
HOSTILE_SOURCES: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("an array", lambda a: {**a, "serialized_space": "[1, 2]"}, "serialized_space is an array in JSON, not an object"),
    ("a string for the tables", with_config(lambda c: c["data_sources"].update(tables="sales.core.orders")),
     "data_sources.tables is a string, not an array"),
    ("a table that is not an object", with_config(lambda c: c["data_sources"]["tables"].append("sales.core.x")),
     "is a string, not an object"),
    ("two tables with one id", with_config(_duplicate_table), "is used by 2 items"),
    ("a benchmark answer that is a number",
     with_config(lambda c: c["benchmarks"]["questions"][0].update(answer=5)),
     "benchmarks.questions[0].answer is not an array of objects"),
    ("SQL lines that are not text",
     with_config(lambda c: c["instructions"]["example_question_sqls"][0].update(sql=["SELECT 1", 5])),
     "instructions.example_question_sqls[0].sql is not text"),
]


def test_a_hostile_source_space_is_refused_by_name_and_nothing_is_created(
        api_env_factory: Callable[..., ApiEnv], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    env = api_env_factory(api={"max_attempts": 1})  # a broken answer is not retried (with real back-off sleeps)
    source = sales_space(env)
    make_tables(env, *tables_of(source))
    target_spaces = len(env.sim.app(DST).state.spaces)
    argv = ("promote", "--from", SRC, "--space", source.space_id, "--to", DST, "--warehouse-id", WAREHOUSE)
    for what, change, expected in HOSTILE_SOURCES:
        rewrite_get_space(env, SRC, source.space_id, change)
        code, out, err = run_cli(env, monkeypatch, capsys, *argv)
        assert code == 1, (what, out, err)
        assert err.startswith(f"error: source space {source.space_id}: serialized_space") and expected in err, what
        assert "nothing written" in err and "created space" not in out, what
    for what, change, expected in UNREADABLE_SOURCES:
        rewrite_get_space(env, SRC, source.space_id, change)
        code, out, err = run_cli(env, monkeypatch, capsys, *argv)
        assert code == 1 and err.startswith(f"error: cannot read space {source.space_id} (--space)"), (what, err)
        assert f"MALFORMED_RESPONSE HTTP 200: {expected}" in err and "created space" not in out, what
    # A get-space answer that is not a JSON object: the workspace failed (1), not a bad --space (2).
    rewrite_get_space(env, SRC, source.space_id, lambda _a: b"[1, 2]")
    code, _, err = run_cli(env, monkeypatch, capsys, *argv)
    assert code == 1 and err.startswith(f"error: cannot read space {source.space_id} (--space)"), err
    assert len(env.sim.app(DST).state.spaces) == target_spaces


def test_update_options_and_a_target_without_etag(api_env_factory: Callable[..., ApiEnv],
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    env = api_env_factory()
    source, target = sales_space(env, SRC), sales_space(env, DST)
    make_tables(env, *tables_of(source))
    base = ("promote", "--from", SRC, "--space", source.space_id)
    # --etag on a create would be ignored: refused. Promoting a space onto itself: refused.
    code, _, err = run_cli(env, monkeypatch, capsys, *base, "--to", DST, "--etag", "abc")
    assert code == 2 and err.startswith("error: --etag 'abc': an etag guards an update; give --target-space")
    code, _, err = run_cli(env, monkeypatch, capsys, *base, "--to", SRC, "--target-space", source.space_id)
    assert code == 2 and err.startswith(f"error: --target-space {source.space_id}: it is the source space itself")

    # The target's answer lacks its etag: an update could not detect a change made meanwhile.
    source.serialized_space["instructions"]["text_instructions"][0]["content"] = ["Amounts are in EUR."]
    rewrite_get_space(env, DST, target.space_id, lambda a: {k: v for k, v in a.items() if k != "etag"})
    before = (json.dumps(target.serialized_space), target.update_time)
    code, _, err = run_cli(env, monkeypatch, capsys, *base, "--to", DST, "--target-space", target.space_id)
    assert code == 1 and f"target space {target.space_id}: the workspace's answer has no etag" in err
    assert "--force" in err and (json.dumps(target.serialized_space), target.update_time) == before
    code, out, err = run_cli(env, monkeypatch, capsys, *base, "--to", DST, "--target-space", target.space_id,
                             "--force")
    assert code == 0 and "updated space" in out, err
    assert target.serialized_space == source.serialized_space


def test_remapping_keeps_what_it_does_not_rename_as_written() -> None:
    remap = P.Remap.from_options(["sales=prod"])
    config = {
        "data_sources": {"tables": [{"identifier": "sales.`my-schema`.orders"}, {"identifier": "`sales`.core.`a.b`"}]},
        "instructions": {
            "example_question_sqls": [
                # A column qualified by its table's full name follows the table.
                {"id": "1" * 32, "sql": ["SELECT sales.core.orders.id\n", "FROM sales.core.orders"]},
                # Pieces that do not end with a newline stay the same pieces.
                {"id": "2" * 32, "sql": ["SELECT * FROM sales.", "core.orders ", "WHERE 1 = 1"]},
                {"id": "3" * 32, "sql": ["SELECT * FROM sales.`my-schema`.orders"]},
                {"id": "4" * 32, "sql": ["SELECT * FROM IDENTIFIER('sales.core.orders')"]},
                {"id": "5" * 32, "sql": ["SELEC nothing FROM ((("]},
            ],
            "sql_snippets": {"measures": [{"id": "6" * 32, "alias": "total", "sql": ["SUM(sales.core.orders.amount)"]}]},
        },
    }
    out, problems = P.remap_space(config, remap)
    assert [t["identifier"] for t in out["data_sources"]["tables"]] == ["prod.`my-schema`.orders", "prod.core.`a.b`"]
    assert [e["sql"] for e in out["instructions"]["example_question_sqls"]] == [
        ["SELECT prod.core.orders.id\n", "FROM prod.core.orders"],
        ["SELECT * FROM prod.core.orders", " ", "WHERE 1 = 1"],  # the renamed name lands in the piece it began in
        ["SELECT * FROM prod.`my-schema`.orders"],
        ["SELECT * FROM IDENTIFIER('sales.core.orders')"],  # not remapped, and said so
        ["SELEC nothing FROM ((("],                        # does not parse: left as is, and said so
    ]
    assert out["instructions"]["sql_snippets"]["measures"][0]["sql"] == ["SUM(prod.core.orders.amount)"]
    assert problems == [f"example SQL {'4' * 32}: the table named by IDENTIFIER('sales.core.orders') is not remapped",
                        f"example SQL {'5' * 32}: SQL not remapped, it does not parse (SqlFileError)"]
    # No rule: nothing is parsed or changed, whatever the pieces.
    assert P.remap_space(config, P.Remap()) == (config, [])


def test_the_diff_survives_duplicate_ids_and_ids_of_other_types() -> None:
    a, b = {"identifier": "x.y.a"}, {"identifier": "x.y.b"}
    old = {"data_sources": {"tables": [{**a, "id": "1"}, {**b, "id": "1"}]}}
    new = {"data_sources": {"tables": [{**b, "id": "1"}, {**a, "id": "2"}]}}
    assert diff_spaces(old, new).summary() == "no change"  # the same two tables; a shared id identifies neither
    odd = {"data_sources": {"tables": [{**a, "id": ["1"]}]},
           "instructions": {"join_specs": [{"left": "x.y.a", "right": {"identifier": "x.y.b"}}],
                            "sql_snippets": {"filters": [{"alias": ["f"], "sql": "a > 1"}]}}}
    assert diff_spaces(odd, odd).summary() == "no change"
    # The configuration-changes mart: a version nested too deeply diffs as an empty configuration.
    rows = [{"workspace_id": "1", "space_id": "s", "config_hash": h, "first_seen_at": n, "serialized_space": ser}
            for n, (h, ser) in enumerate((("h1", json.dumps(old)), ("h2", "[" * 100_000 + "]" * 100_000)))]
    assert config_change_rows(rows, None)[0]["diff_summary"] == "tables +0 -2 ~0"


# -- restore --------------------------------------------------------------------------------------------------
def backed_up(env: ApiEnv, space: Space) -> tuple[dict[str, Any], B.BackupStore]:
    """A backup of ``space`` as the workspace answers it now, written where `spaces restore` looks."""
    client = GenieResource.from_settings(env.settings).client(space.workspace_id)
    try:
        answer = client.get_space(space.space_id)
    finally:
        client.close()
    row = {"workspace_id": space.workspace_id, "space_id": space.space_id, "config_hash": config_hash(answer),
           **{k: answer.get(k) for k in ("title", "description", "warehouse_id", "serialized_space")}}
    with open_warehouse(env.settings) as wh:
        store = B.store_for(wh, backup_folder(env.settings))
    B.write_backups([row], store)
    return B.document(row), store


def test_restore_refuses_a_file_that_is_not_the_backup_asked_for(api_env_factory: Callable[..., ApiEnv],
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    env = api_env_factory()
    space, other = [s for s in env.scenario.spaces if s.workspace_id == SRC][:2]
    doc, _ = backed_up(env, space)
    space.title = other.title = "Edited since"

    def restore(target: Space, version: str, *extra: str) -> tuple[int, str]:
        code, _, err = run_cli(env, monkeypatch, capsys, "restore", "--workspace", SRC, "--space", target.space_id,
                               "--version", version, *extra)
        return code, err

    def file(name: str, content: dict[str, Any]) -> str:
        path = tmp_path / name
        path.write_text(json.dumps(content))
        return str(path)

    # Named as one version, holding another (a valid backup by itself).
    code, err = restore(space, file("f" * 64 + ".json", doc))
    assert code == 2 and f"the file is named {'f' * 12}… but holds configuration {doc['config_hash'][:12]}…" in err
    # Another space's backup, without --from-space; a format this version does not read.
    code, err = restore(other, file("mine.json", doc))
    assert code == 2 and f"a backup of space {space.space_id}, not of {other.space_id}" in err and "--from-space" in err
    code, err = restore(space, file("v2.json", {**doc, "format_version": 2}))
    assert code == 2 and "backup format_version 2 is not supported (this version reads format_version 1)" in err
    assert space.title == other.title == "Edited since"

    # The space's answer holds a serialized_space that is not JSON text: nothing to compare with, refused.
    rewrite_get_space(env, SRC, space.space_id, lambda a: {**a, "serialized_space": 5})
    code, err = restore(space, doc["config_hash"][:8])
    assert code == 1 and "MALFORMED_RESPONSE HTTP 200: space fields that are not text: serialized_space" in err
    # The space's answer lacks its etag: refused unless --force.
    rewrite_get_space(env, SRC, space.space_id, lambda a: {k: v for k, v in a.items() if k != "etag"})
    code, err = restore(space, doc["config_hash"][:8])
    assert code == 1 and f"space {space.space_id}: the workspace's answer has no etag" in err
    assert space.title == "Edited since"
    code, err = restore(space, doc["config_hash"][:8], "--force")
    assert code == 0, err
    assert space.title == doc["title"]


def test_load_backup_refuses_unusable_files(tmp_path: Path) -> None:
    store = B.LocalStore(tmp_path / "store")
    row = {"workspace_id": "1", "space_id": "a" * 32, "title": "t", "description": None, "warehouse_id": "w",
           "serialized_space": "{}"}
    doc = B.document({**row, "config_hash": config_hash(row)})
    for name, content, expected in [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "the backup is not JSON"),
        ("number.json", {**doc, "serialized_space": 5}, "serialized_space is neither a JSON object nor text"),
        ("title.json", {**doc, "title": ["t"]}, "title is not text"),
        ("other-ws.json", {**doc, "workspace_id": "2"}, "a backup of a space of workspace 2, not of --workspace 1"),
    ]:
        path = tmp_path / name
        if isinstance(content, dict):  # a consistent file: its config_hash is its content's
            content = json.dumps({**content, "config_hash": B.doc_hash(content)}).encode()
        path.write_bytes(content)
        with pytest.raises(B.BadOption, match=expected):
            B.load_backup(store, "1", "a" * 32, str(path))
    # A file of the store that holds another version than its name: a failure of the store, not an option.
    store.write(f"1/{'a' * 32}/{'b' * 64}.json", json.dumps(doc).encode())
    with pytest.raises(B.BackupError, match="holds configuration") as err:
        B.load_backup(store, "1", "a" * 32, "bbbbbb")
    assert not isinstance(err.value, B.BadOption)
