"""`genie-obs spaces promote`: semantic dry-run diff, creation across two simulated workspaces with remapped
catalogs, etag refusal (and --force), missing target tables named, option errors, a create never replayed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from genie_obs_dagster import cli
from genie_obs_dagster.genie.spaces import config_hash
from genie_obs_dagster.lifecycle import promotion as P
from genie_obs_dagster.lifecycle.space_diff import diff_spaces
from genie_obs_dagster.resources import GenieResource
from genie_obs_dagster.sandbox.model import Space
from genie_obs_dagster.sandbox.server import Fault, WorkspaceFaults
from genie_obs_dagster.warehouse.naming import TableNames

from .conftest import WORKSPACES, ApiEnv

SRC, DST = WORKSPACES
WAREHOUSE = "0123456789abcdef"


def sales_space(env: ApiEnv, workspace_id: str = SRC) -> Space:
    return next(s for s in env.scenario.spaces if s.workspace_id == workspace_id and s.domain == "sales")


def make_tables(env: ApiEnv, *identifiers: str) -> None:
    """Tables in the embedded warehouse (the DuckDB file), where the promotion checks that they exist."""
    with env.wh.connect() as conn:
        for ident in identifiers:
            catalog, schema, table = ident.split(".")
            physical = TableNames.duckdb_schema(catalog, schema)
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{physical}"')
            conn.execute(f'CREATE TABLE IF NOT EXISTS "{physical}"."{table}" (id INTEGER)')


def tables_of(space: Space) -> list[str]:
    return [t["identifier"] for t in space.serialized_space["data_sources"]["tables"]]


def run_cli(env: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str
            ) -> tuple[int, str, str]:
    monkeypatch.setattr(cli, "load_component_settings", lambda _defs: env.settings)
    capsys.readouterr()
    code = cli.main(["spaces", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def created_space(env: ApiEnv, out: str) -> Space:
    """The space the command says it created (its id read from the output), as the simulated workspace holds it."""
    match = re.search(r"created space ([0-9a-f]{32}) in workspace (\d+)", out)
    assert match, out
    return env.sim.app(match.group(2)).state.spaces[match.group(1)]


def test_dry_run_lists_exactly_the_changes_made_to_a_copy(api_env_factory: Callable[..., ApiEnv],
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    env = api_env_factory()
    source = sales_space(env)
    make_tables(env, *tables_of(source))
    code, out, err = run_cli(env, monkeypatch, capsys, "promote", "--from", SRC, "--space", source.space_id,
                             "--to", DST, "--warehouse-id", WAREHOUSE)
    assert code == 0, err
    copy = created_space(env, out)
    assert copy.serialized_space == source.serialized_space and "verified" in out

    # Four edits to the source: one item added, one removed, two changed.
    cfg = source.serialized_space
    cfg["config"]["sample_questions"].append({"id": "f" * 32, "question": ["Which region grew fastest?"]})
    removed = cfg["benchmarks"]["questions"].pop(0)
    cfg["instructions"]["example_question_sqls"][0]["sql"] = ["SELECT 1 FROM sales.core.orders"]
    cfg["instructions"]["text_instructions"][0]["content"] = ["Always answer in EUR."]
    before = (json.dumps(copy.serialized_space), copy.update_time)

    code, out, err = run_cli(env, monkeypatch, capsys, "promote", "--from", SRC, "--space", source.space_id,
                             "--to", DST, "--target-space", copy.space_id, "--dry-run")
    assert code == 0, err
    example_q = cfg["instructions"]["example_question_sqls"][0]["question"][0]
    diff_lines = out.splitlines()[2:]  # after the header and the target etag
    assert diff_lines == [
        "text_instructions: 0 added, 0 removed, 1 changed",
        "  ~ Always answer in EUR. (content)",
        "sample_questions: 1 added, 0 removed, 0 changed",
        "  + Which region grew fastest?",
        "example_sqls: 0 added, 0 removed, 1 changed",
        f"  ~ {example_q} (sql)",
        "benchmarks: 0 added, 1 removed, 0 changed",
        f"  - {removed['question'][0]}",
    ]
    assert (json.dumps(copy.serialized_space), copy.update_time) == before  # a dry run changes nothing


def test_promotion_creates_a_space_equal_to_the_remapped_source(api_env_factory: Callable[..., ApiEnv],
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    env = api_env_factory()
    source = sales_space(env)
    make_tables(env, *(t.replace("sales.", "prod_sales.", 1) for t in tables_of(source)))
    code, out, err = run_cli(env, monkeypatch, capsys, "promote", "--from", SRC, "--space", source.space_id,
                             "--to", DST, "--remap-catalog", "sales=prod_sales", "--warehouse-id", WAREHOUSE)
    assert code == 0, err
    created = created_space(env, out)
    assert created.workspace_id == DST
    # The oracle: every "sales." catalog prefix of the source's text, tables and SQL alike, renamed.
    expected = json.loads(json.dumps(source.serialized_space).replace("sales.core.", "prod_sales.core."))
    assert "prod_sales.core.orders" in json.dumps(expected) and "sales.core" not in json.dumps(expected).replace("prod_sales", "")
    assert created.serialized_space == expected
    assert created.warehouse_id == WAREHOUSE and created.space_id in out
    # Promoting again onto it: nothing left to change.
    code, out, _ = run_cli(env, monkeypatch, capsys, "promote", "--from", SRC, "--space", source.space_id, "--to", DST,
                           "--target-space", created.space_id, "--remap-catalog", "sales=prod_sales", "--dry-run")
    assert code == 0 and out.splitlines()[2:] == ["no change"]


def test_a_stale_etag_is_refused_unless_forced(api_env_factory: Callable[..., ApiEnv],
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    env = api_env_factory()
    source, target = sales_space(env, SRC), sales_space(env, DST)
    make_tables(env, *tables_of(source))
    genie = GenieResource.from_settings(env.settings)
    src, dst = genie.client(SRC), genie.client(DST)
    # The two workspaces' sales spaces differ only in ids, which the diff ignores: make a real change.
    assert P.plan_promotion(src, source.space_id, dst, target_space_id=target.space_id).diff.empty
    source.serialized_space["instructions"]["text_instructions"][0]["content"] = ["Amounts are in EUR."]
    plan = P.plan_promotion(src, source.space_id, dst, target_space_id=target.space_id)
    assert plan.target_etag and not plan.diff.empty

    # Someone edits the target after the plan read it: the update is refused, the edit kept.
    other = dst.update_space(target.space_id, etag=plan.target_etag, title="Edited by hand")
    with pytest.raises(P.StaleTarget, match="changed since it was read"):
        P.apply_promotion(plan, dst)
    assert target.title == "Edited by hand" and target.serialized_space != source.serialized_space
    done = P.apply_promotion(plan, dst, force=True)
    assert done.forced and done.verified and target.serialized_space == source.serialized_space

    # The CLI's --etag (a dry run's): refused once the target moved on, then forced.
    source.serialized_space["instructions"]["text_instructions"][0]["content"] = ["New rule."]
    code, _, err = run_cli(env, monkeypatch, capsys, "promote", "--from", SRC, "--space", source.space_id, "--to", DST,
                           "--target-space", target.space_id, "--etag", other["etag"])
    assert code == 1 and "changed since etag" in err and "--force" in err
    assert target.serialized_space["instructions"]["text_instructions"][0]["content"] != ["New rule."]
    code, out, err = run_cli(env, monkeypatch, capsys, "promote", "--from", SRC, "--space", source.space_id, "--to", DST,
                             "--target-space", target.space_id, "--etag", other["etag"], "--force")
    assert code == 0, err
    assert target.serialized_space == source.serialized_space and "updated space" in out
    for c in (src, dst):
        c.close()


def test_missing_target_tables_are_named_and_nothing_is_created(api_env_factory: Callable[..., ApiEnv],
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    env = api_env_factory()
    source = sales_space(env)
    wanted = sorted(t.replace("sales.core.", "prod.sales.", 1) for t in tables_of(source))
    make_tables(env, *wanted[1:])  # all but the first
    args = ("promote", "--from", SRC, "--space", source.space_id, "--to", DST, "--remap-schema",
            "sales.core=prod.sales", "--warehouse-id", WAREHOUSE)
    code, out, _ = run_cli(env, monkeypatch, capsys, *args, "--dry-run")
    assert code == 1 and f"missing in the target: 1 table(s): {wanted[0]}" in out
    spaces_before = len(env.scenario.spaces)
    code, _, err = run_cli(env, monkeypatch, capsys, *args)
    assert code == 1 and wanted[0] in err and wanted[1] not in err
    assert len(env.scenario.spaces) == spaces_before


@pytest.mark.parametrize(("argv", "option"), [
    (("--remap-catalog", "sales"), "--remap-catalog"),
    (("--remap-schema", "sales=prod"), "--remap-schema"),
    (("--warehouse-id", "not/an id"), "--warehouse-id"),
    (("--target-space", "XYZ"), "--target-space"),
])
def test_bad_options_name_the_option(api_env_factory: Callable[..., ApiEnv], monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], option: str) -> None:
    env = api_env_factory()
    source = sales_space(env)
    code, _, err = run_cli(env, monkeypatch, capsys, "promote", "--from", SRC, "--space", source.space_id, "--to", DST,
                           *argv)
    assert code == 2 and err.startswith(f"error: {option} ")


def test_unknown_workspace_and_space_are_named(api_env_factory: Callable[..., ApiEnv], monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    env = api_env_factory()
    code, _, err = run_cli(env, monkeypatch, capsys, "promote", "--from", SRC, "--space", "a" * 32, "--to", "42")
    assert code == 2 and err.startswith("error: --to '42' is not a configured workspace")
    code, _, err = run_cli(env, monkeypatch, capsys, "promote", "--from", SRC, "--space", "a" * 32, "--to", DST)
    assert code == 2 and err.startswith(f"error: --space {'a' * 32}: no such space in workspace {SRC}")


def test_a_create_whose_answer_is_lost_is_not_replayed(api_env_factory: Callable[..., ApiEnv],
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    env = api_env_factory()
    source = sales_space(env)
    make_tables(env, *tables_of(source))
    env.sim.set_faults(DST, WorkspaceFaults(requests_per_second=None,
                                            faults=(Fault("truncate", kinds=frozenset({"create_space"})),)))
    code, _, err = run_cli(env, monkeypatch, capsys, "promote", "--from", SRC, "--space", source.space_id,
                           "--to", DST, "--warehouse-id", WAREHOUSE)
    new = [s for s in env.sim.app(DST).state.spaces.values() if s.serialized_space == source.serialized_space]
    assert len(new) == 1  # the server did create it, once
    assert code == 1 and "not retried" in err and new[0].space_id in err
    assert env.sim.stats(DST).by_kind.get("create_space") == 1


def test_diff_matches_by_id_then_by_name() -> None:
    old = {"data_sources": {"tables": [{"identifier": "a.b.c", "description": ["x"]}]},
           "benchmarks": {"questions": [{"id": "1" * 32, "question": ["Q1"], "answer": [{"format": "SQL", "content": ["S"]}]}]}}
    new = {"data_sources": {"tables": [{"identifier": "a.b.c", "description": ["y"]}, {"identifier": "a.b.d"}]},
           "benchmarks": {"questions": [{"id": "2" * 32, "question": ["Q1"], "answer": [{"format": "SQL", "content": ["S"]}]}]}}
    d = diff_spaces(old, new, {"title": "t"}, {"title": "u"})
    assert d.as_dict() == {"space": {"added": [], "removed": [], "changed": [{"name": "title", "fields": ["title"]}]},
                           "tables": {"added": ["a.b.d"], "removed": [],
                                      "changed": [{"name": "a.b.c", "fields": ["description"]}]}}
    # ids differ but the question is the same: same benchmark, unchanged; the hash still tells versions apart
    assert config_hash({"serialized_space": json.dumps(old)}) != config_hash({"serialized_space": json.dumps(new)})


def test_databricks_the_simulated_warehouse_answers_which_target_tables_exist(
        api_env_factory: Callable[..., ApiEnv], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """On the Databricks back end the tables are looked up in Unity Catalog's information_schema on the SQL
    warehouse (schemas bound as a parameter): a missing table is named, a missing catalog means all of its tables,
    a catalog the principal may not use is an error naming the grant; once the table exists the promotion goes."""
    from genie_obs_dagster.resources import open_warehouse
    from genie_obs_dagster.sandbox.server import SimConfig
    from genie_obs_dagster.sandbox.server.sql_types import SqlGrants, SqlWarehouseConfig

    revoked = SqlGrants(frozenset({("USE CATALOG", "secret")}))
    config = SimConfig(faults=WorkspaceFaults(requests_per_second=None),
                       sql=SqlWarehouseConfig(catalogs=("main", "system", "prod", "secret"), grants=revoked))
    env = api_env_factory(config=config, backend="databricks")
    engine = env.sim.sql_engine
    source = sales_space(env)
    wanted = sorted(t.replace("sales.core.", "prod.sales.", 1) for t in tables_of(source))
    engine.execute("CREATE SCHEMA IF NOT EXISTS prod.sales", principal="system")
    for ident in wanted[1:]:  # all but the first
        engine.execute(f"CREATE TABLE {ident} (id INT)", principal="system")
    args = ("promote", "--from", SRC, "--space", source.space_id, "--to", DST, "--remap-schema",
            "sales.core=prod.sales", "--warehouse-id", WAREHOUSE)
    n = len(env.sim.sql_statements())
    code, out, _ = run_cli(env, monkeypatch, capsys, *args, "--dry-run")
    assert code == 1 and f"missing in the target: 1 table(s): {wanted[0]}" in out
    (lookup,) = env.sim.sql_statements()[n:]
    assert "`prod`.information_schema.tables" in lookup.statement and lookup.state == "SUCCEEDED"
    assert "sales" not in lookup.statement.replace("information_schema", "")  # the schema is a bound value
    assert {p["name"]: p.get("value") for p in lookup.parameters} == {"schemas": "sales"}

    with open_warehouse(env.settings) as wh:
        lookup_fn = P.warehouse_table_lookup(wh)
        assert P.missing_tables(["nowhere.a.b", wanted[1], "`bad-cat`.x.y", "two.parts"], lookup_fn) == \
            sorted(["nowhere.a.b", "`bad-cat`.x.y", "two.parts"])  # no such catalog; not an identifier; not 3 parts
        with pytest.raises(P.PromotionError, match="USE CATALOG on secret"):
            P.missing_tables(["secret.s.t"], lookup_fn)

    engine.execute(f"CREATE TABLE {wanted[0]} (id INT)", principal="system")
    code, out, err = run_cli(env, monkeypatch, capsys, *args)
    assert code == 0, err
    created = created_space(env, out)
    assert sorted(tables_of(created)) == wanted
