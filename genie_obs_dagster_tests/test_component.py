"""The product as a Dagster Component, used the way a Dagster user adds an integration to a project they run:
``dg scaffold defs`` in a fresh ``dg`` project, a YAML naming the workspaces, ``dg check yaml``, ``dg check defs``,
then assets materialized against the simulated workspace. And what the component promises about its YAML:
templates, credentials as references only, errors that name the setting and never echo a secret."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import jsonschema
import pytest
import yaml

from genie_obs_dagster.component import (
    COMPONENT_TYPE,
    PACKAGED_DEFS_YAML,
    GenieObservabilityAttributes,
    settings_from_attributes,
)
from genie_obs_dagster.demo import range_tags
from genie_obs_dagster.resources import GenieResource
from genie_obs_dagster.settings import SettingsError

from .conftest import PRINCIPAL, WORKSPACES, ApiEnv

BIN = Path(sys.executable).parent
SECRET = "dapi0123456789abcdef0123456789abcdef"  # the shape of a Databricks token
SCAFFOLD_S = 300  # outer limit of each dg command: a safety net against a hang, never a performance assertion


def _new_dg_project(root: Path, package: str = "acme_analytics") -> Path:
    """What ``create-dagster project`` lays out: a pyproject with [tool.dg], a package whose definitions load the
    defs folder. The project is not installed; dg runs it with this test's environment."""
    (root / "src" / package / "defs").mkdir(parents=True)
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [project]
        name = "{package.replace("_", "-")}"
        version = "0.1.0"
        requires-python = ">=3.10"
        dependencies = ["dagster", "genie-obs-dagster"]

        [tool.dg]
        directory_type = "project"

        [tool.dg.project]
        root_module = "{package}"
        """))
    (root / "src" / package / "__init__.py").write_text("")
    (root / "src" / package / "defs" / "__init__.py").write_text("")
    (root / "src" / package / "definitions.py").write_text(textwrap.dedent("""\
        from pathlib import Path

        import dagster as dg


        @dg.definitions
        def defs() -> dg.Definitions:
            return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
        """))
    return root / "src" / package / "defs"


def _dg(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "VIRTUAL_ENV": str(BIN.parent), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
               "NO_COLOR": "1", **(env or {})}
    return subprocess.run([str(BIN / "dg"), *args], cwd=project, env=environ, capture_output=True, text=True,
                          timeout=SCAFFOLD_S, check=False)


def _attributes_for(env: ApiEnv) -> dict[str, Any]:
    """The attributes a user writes for the sandbox: its workspaces, a DuckDB file, credentials by template."""
    return {
        "workspaces": [{"id": w, "name": f"sandbox-{i + 1}", "url": env.sim.urls[w]} for i, w in enumerate(WORKSPACES)],
        "history": {"start_date": env.scenario.start_date.isoformat()},
        "ingestion_principal": {"identity": PRINCIPAL},
        "credentials": {"client_id": "{{ env.GENIE_OBS_CLIENT_ID }}",
                        "client_secret": "{{ env.GENIE_OBS_CLIENT_SECRET }}"},
        "warehouse": {"backend": "duckdb", "duckdb": {"path": env.settings.warehouse.duckdb.path}},
        "api": {"rate_per_s": 1000},
    }


def _write_defs(folder: Path, attributes: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"type": COMPONENT_TYPE, "attributes": attributes,
           "requirements": {"env": ["GENIE_OBS_CLIENT_ID", "GENIE_OBS_CLIENT_SECRET"]}}
    path = folder / "defs.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_a_fresh_dg_project_scaffolds_checks_and_materializes_the_component(
        tmp_path: Path, api_env_factory: Callable[..., ApiEnv], monkeypatch: pytest.MonkeyPatch) -> None:
    defs_folder = _new_dg_project(tmp_path / "acme")
    project = tmp_path / "acme"

    scaffold = _dg(project, "scaffold", "defs", COMPONENT_TYPE, "genie_obs")
    assert scaffold.returncode == 0, scaffold.stderr
    scaffolded = defs_folder / "genie_obs" / "defs.yaml"
    assert yaml.safe_load(scaffolded.read_text())["type"] == COMPONENT_TYPE
    assert scaffolded.read_text() == PACKAGED_DEFS_YAML.read_text()  # the commented embedded default, as shipped
    check = _dg(project, "check", "yaml")
    assert check.returncode == 0 and "validated successfully" in check.stdout, check.stdout + check.stderr

    env = api_env_factory()  # simulated workspaces on free ports, their audit log in a DuckDB file
    _write_defs(defs_folder / "genie_obs", _attributes_for(env))
    check = _dg(project, "check", "yaml")
    assert check.returncode == 0, check.stdout + check.stderr
    check = _dg(project, "check", "defs")
    assert check.returncode == 0 and "loaded successfully" in check.stdout + check.stderr, check.stdout + check.stderr

    # The user's code location, loaded the way `dg dev` loads it, materializes against the simulated workspace.
    monkeypatch.syspath_prepend(str(project / "src"))
    defs = dg.ComponentTree.for_project(project).build_defs()
    assert {k.to_user_string() for k in defs.resolve_all_asset_keys()} >= {
        "genie_audit_events", "genie_messages_to_fetch", "message_details", "message_fetch_errors"}
    instance = dg.DagsterInstance.ephemeral()
    for ws in WORKSPACES:
        result = defs.resolve_job_def("genie_ingest").execute_in_process(
            instance=instance, tags=range_tags(ws, env.scenario.start_date, env.last_day))
        assert result.success
    fetched = set(env.rows("SELECT workspace_id, message_id FROM main.genie_analytics.message_details"))
    assert fetched == set(env.scenario.expected_messages_to_fetch()) and fetched


@pytest.fixture(scope="module")
def checked_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, Any]], tuple[str, str]]:
    """A dg project whose one defs.yaml is rewritten per case; returns the output of dg check yaml and defs."""
    root = tmp_path_factory.mktemp("checked")
    defs_folder = _new_dg_project(root / "proj")

    def check(attributes: dict[str, Any]) -> tuple[str, str]:
        _write_defs(defs_folder / "genie_obs", attributes)
        yaml_check = _dg(root / "proj", "check", "yaml")
        defs_check = _dg(root / "proj", "check", "defs", "--no-check-yaml")  # the load's own errors
        return yaml_check.stdout + yaml_check.stderr, defs_check.stdout + defs_check.stderr

    return check


GOOD: dict[str, Any] = {
    "workspaces": [{"id": "1234567890123456", "url": "https://adb-1234567890123456.7.azuredatabricks.net"}],
    "history": {"start_date": "2026-01-01"},
    "ingestion_principal": {"identity": PRINCIPAL},
    "credentials": {"client_id": "{{ env.GENIE_OBS_CLIENT_ID }}", "client_secret": "{{ env.GENIE_OBS_CLIENT_SECRET }}"},
}


def _with(**changes: Any) -> dict[str, Any]:
    raw = yaml.safe_load(yaml.safe_dump(GOOD))
    raw.update(changes)
    return raw


def test_dg_check_yaml_names_each_bad_attribute(checked_project: Callable[[dict[str, Any]], tuple[str, str]]) -> None:
    bad = _with(workspacez=[], api={"rate_per_s": -5, "concurency": 2}, warehouse={"backend": "snowflake"})
    bad["workspaces"][0]["id"] = "12ab"
    yaml_out, defs_out = checked_project(bad)
    for expected in ("workspacez", "rate_per_s", "concurency", "snowflake", "12ab"):
        assert expected in yaml_out, yaml_out
    # Loading says the same in the settings' own words: setting, value where harmless, what is allowed.
    for expected in ("workspacez: unknown setting", "api.rate_per_s", "warehouse.backend", "digits only"):
        assert expected in defs_out, defs_out


def test_a_secret_pasted_into_the_yaml_is_refused_and_never_echoed(
        checked_project: Callable[[dict[str, Any]], tuple[str, str]]) -> None:
    pasted = _with(credentials={"client_id": "{{ env.GENIE_OBS_CLIENT_ID }}", "client_secret": SECRET})
    yaml_out, defs_out = checked_project(pasted)
    assert "credentials.client_secret" in defs_out and "never allowed" in defs_out, defs_out
    assert SECRET not in yaml_out and SECRET not in defs_out


# -- templates and references, in process ------------------------------------------------------------------------
def _resolve(value: Any) -> Any:
    return dg.ResolutionContext.default().resolve_value(value)


def test_templates_resolve_but_credentials_stay_references(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENIE_OBS_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("GENIE_RATE", "12.5")
    monkeypatch.setenv("GENIE_HOST", "adb-42.azuredatabricks.net")
    raw = _with(api={"rate_per_s": "{{ env.GENIE_RATE }}"},
                workspaces=[{"id": 42, "url": "https://{{ env.GENIE_HOST }}",
                             "credentials": {"client_id": {"env": "WS_ID"},
                                             "client_secret": "{{ env('WS_SECRET') }}"}}])
    s = settings_from_attributes(raw, "defs.yaml", _resolve)
    assert s.api.rate_per_s == 12.5 and s.workspaces[0].url == "https://adb-42.azuredatabricks.net"
    assert s.credentials.client_secret.env == "GENIE_OBS_CLIENT_SECRET"
    assert s.credentials_for("42").client_secret.env == "WS_SECRET"  # unset: fine, read when a token is needed
    assert SECRET not in s.model_dump_json()
    resource = GenieResource.from_settings(s)
    assert SECRET not in repr(resource) and resource.workspaces[0].client_secret.env == "WS_SECRET"
    assert resource.workspaces[0].rate_per_s == 12.5 and resource.workspaces[0].url.endswith("azuredatabricks.net")


@pytest.mark.parametrize("credential", [
    SECRET,
    "{{ env.GENIE_OBS_CLIENT_SECRET | default('" + SECRET + "') }}",
    "prefix-{{ env.GENIE_OBS_CLIENT_SECRET }}",
    "",
])
def test_a_credential_that_is_not_a_reference_is_refused_without_echo(credential: str) -> None:
    raw = _with(credentials={"client_id": {"env": "GENIE_OBS_CLIENT_ID"}, "client_secret": credential})
    with pytest.raises(SettingsError) as exc:
        settings_from_attributes(raw, "defs.yaml", _resolve)
    assert "credentials.client_secret" in str(exc.value) and "never allowed" in str(exc.value)
    assert SECRET not in str(exc.value)


def test_secret_scope_references_pass_through() -> None:
    raw = _with(warehouse={"backend": "databricks", "databricks": {
        "host": "https://adb-1.azuredatabricks.net", "warehouse_id": "0123456789abcdef",
        "credentials": {"client_id": {"secret_scope": "genie", "key": "id"},
                        "client_secret": {"secret_scope": "genie", "key": "secret"}}}})
    s = settings_from_attributes(raw, "defs.yaml", _resolve)
    assert s.warehouse.databricks and s.warehouse.databricks.credentials
    assert s.warehouse.databricks.credentials.client_secret.describe() == "secret genie/secret"


# -- the YAML check and the load agree ---------------------------------------------------------------------------
SCHEMA_CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("good", GOOD, True),
    ("int workspace id", _with(workspaces=[{"id": 1234567890123456, "url": "https://x.cloud.databricks.com"}]), True),
    ("templated number", _with(api={"rate_per_s": "{{ env.RATE }}"}), True),
    ("unknown top-level key", _with(schedule="x"), False),
    ("unknown nested key", _with(api={"rate": 1}), False),
    ("rate out of range", _with(api={"rate_per_s": 0}), False),
    ("concurrency not a number", _with(api={"concurrency": "many"}), False),
    ("bad workspace id", _with(workspaces=[{"id": "12ab", "url": "https://x.cloud.databricks.com"}]), False),
    ("url with a path", _with(workspaces=[{"id": "1", "url": "https://x.cloud.databricks.com/a"}]), False),
    ("bad space id", _with(workspaces=[{"id": "1", "url": "https://x.net", "space_ids": ["nope"]}]), False),
    ("bad catalog", _with(target={"catalog": "main; DROP"}), False),
    ("bad source table", _with(sources={"audit": "system.audit"}), False),
    ("bad backend", _with(warehouse={"backend": "snowflake"}), False),
    ("bad warehouse id", _with(warehouse={"backend": "databricks", "databricks": {
        "host": "https://x.net", "warehouse_id": "XYZ"}}), False),
    ("missing workspaces", {k: v for k, v in GOOD.items() if k != "workspaces"}, False),
    ("lookback out of range", _with(automation={"lookback_days": 1000}), False),
]


@pytest.mark.parametrize(("case", "attributes", "valid"), SCHEMA_CASES, ids=[c[0] for c in SCHEMA_CASES])
def test_the_yaml_schema_and_the_load_agree(case: str, attributes: dict[str, Any], valid: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE", "7")
    schema_errors = list(jsonschema.Draft202012Validator(GenieObservabilityAttributes.model_json_schema())
                         .iter_errors(attributes))
    try:
        settings_from_attributes(attributes, "defs.yaml", _resolve)
        loaded = True
    except SettingsError:
        loaded = False
    assert loaded == valid, case
    assert (not schema_errors) == valid, (case, [e.message for e in schema_errors])


def test_the_projects_instance_passes_its_own_schema_and_loads() -> None:
    doc = yaml.safe_load(PACKAGED_DEFS_YAML.read_text())
    assert doc["type"] == COMPONENT_TYPE
    jsonschema.validate(doc["attributes"], GenieObservabilityAttributes.model_json_schema())
    from genie_obs_dagster.definitions import defs  # this project's code location: its defs folder

    loaded = defs()
    assert {k.to_user_string() for k in loaded.resolve_all_asset_keys()} >= {"genie_audit_events", "message_details"}
    genie = loaded.resources["genie"]
    assert isinstance(genie, GenieResource) and [w.id for w in genie.workspaces] == [w["id"] for w in doc["attributes"]["workspaces"]]
