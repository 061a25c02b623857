"""Every bad setting fails at load with a message naming the setting, the value and what is allowed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from genie_obs_dagster.settings import SettingsError, load_settings, parse_settings

GOOD: dict[str, Any] = {
    "workspaces": [{"id": "1234567890123456", "url": "https://adb-1.cloud.databricks.com/"}],
    "history": {"start_date": "2026-01-01"},
    "ingestion_principal": {"identity": "5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f"},
}


def with_(**changes: Any) -> dict[str, Any]:
    raw = yaml.safe_load(yaml.safe_dump(GOOD))
    raw.update(changes)
    return raw


def error_of(raw: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(SettingsError) as exc:
        parse_settings(raw, environ=environ or {})
    return str(exc.value)


def test_good_settings_have_documented_defaults() -> None:
    s = parse_settings(GOOD, environ={})
    assert s.target.catalog == "main" and s.target.schema_ == "genie_analytics"
    assert s.sources.audit == "system.access.audit"
    assert s.workspaces[0].url == "https://adb-1.cloud.databricks.com"
    assert s.workspaces[0].space_ids == []  # empty list = every space
    assert s.credentials.client_secret.env == "GENIE_OBS_CLIENT_SECRET"
    assert s.history.first_day() == dt.date(2026, 1, 1)
    assert s.warehouse.backend == "duckdb"


def test_non_numeric_workspace_id() -> None:
    msg = error_of(with_(workspaces=[{"id": "12ab", "url": "https://x.cloud.databricks.com"}]))
    assert "workspaces.0.id" in msg and "'12ab'" in msg and "digits only" in msg


def test_workspace_id_given_as_yaml_int_is_accepted() -> None:
    s = parse_settings(with_(workspaces=[{"id": 1234567890123456, "url": "https://x.cloud.databricks.com"}]), environ={})
    assert s.workspace_ids == ["1234567890123456"]


@pytest.mark.parametrize("space_id", ["01F0ABCDEF0123456789ABCDEF012345", "abc", "01f0abcdef0123456789abcdef01234g"])
def test_space_id_must_be_32_lowercase_hex(space_id: str) -> None:
    msg = error_of(with_(workspaces=[{"id": "1", "url": "https://x.cloud.databricks.com", "space_ids": [space_id]}]))
    assert "workspaces.0.space_ids" in msg and repr(space_id) in msg and "32 lowercase hex" in msg


def test_unknown_keys_are_rejected_with_their_path() -> None:
    msg = error_of(with_(target={"catalog": "main", "shema": "x"}))
    assert "target.shema" in msg and "unknown setting" in msg
    assert "workspace_ids" in error_of(with_(workspace_ids=["1"]))


@pytest.mark.parametrize("url", ["adb-1.cloud.databricks.com", "ftp://x.com", "http://adb-1.cloud.databricks.com",
                                 "https://x.com/?q=1", "https://"])
def test_bad_url(url: str) -> None:
    msg = error_of(with_(workspaces=[{"id": "1", "url": url}]))
    assert "workspaces.0.url" in msg and repr(url) in msg and "https://" in msg


def test_http_allowed_only_on_loopback() -> None:
    s = parse_settings(with_(workspaces=[{"id": "1", "url": "http://127.0.0.1:8781"}]), environ={})
    assert s.workspaces[0].url == "http://127.0.0.1:8781"


def test_empty_or_missing_workspace_list() -> None:
    assert "workspaces" in error_of(with_(workspaces=[])) and "at least 1" in error_of(with_(workspaces=[]))
    raw = with_()
    del raw["workspaces"]
    assert "workspaces: required setting is missing" in error_of(raw)


def test_duplicate_workspace_ids() -> None:
    ws = {"id": "1", "url": "https://x.cloud.databricks.com"}
    assert "repeated: 1" in error_of(with_(workspaces=[ws, ws]))


def test_history_needs_exactly_one_of_start_date_or_lookback() -> None:
    assert "exactly one of 'start_date'" in error_of(with_(history={}))
    assert "exactly one of" in error_of(with_(history={"start_date": "2026-01-01", "lookback_days": 3}))
    assert "history.start_date" in error_of(with_(history={"start_date": "yesterday"}))
    lookback = parse_settings(with_(history={"lookback_days": 10}), environ={})
    assert lookback.history.first_day(dt.date(2026, 5, 11)) == dt.date(2026, 5, 1)


def test_identifiers_that_reach_sql_are_validated() -> None:
    msg = error_of(with_(target={"schema": "x; DROP TABLE y"}))
    assert "target.schema" in msg and "letters, digits and underscores" in msg
    msg = error_of(with_(sources={"audit": "system.access.audit--"}))
    assert "sources.audit" in msg
    assert "three-part" in error_of(with_(sources={"audit": "access.audit"}))


def test_credentials_are_references_not_values() -> None:
    msg = error_of(with_(credentials={"client_secret": "s3cr3t-value"}))
    assert "credentials.client_secret" in msg and "never a value" in msg
    assert "s3cr3t-value" not in msg  # a pasted secret is never echoed back
    msg = error_of(with_(credentials={"client_secret": {"env": "NOT A NAME"}}))
    assert "not an environment variable name" in msg
    assert "needs a 'key'" in error_of(with_(credentials={"client_secret": {"secret_scope": "genie-obs"}}))
    s = parse_settings(with_(credentials={"client_id": {"secret_scope": "genie-obs", "key": "sp_client_id"},
                                          "client_secret": {"secret_scope": "genie-obs", "key": "sp_client_secret"}}),
                       environ={})
    assert s.credentials_for("1234567890123456").client_secret.describe() == "secret genie-obs/sp_client_secret"


def test_databricks_backend_needs_its_section() -> None:
    assert "needs a 'databricks' section" in error_of(with_(warehouse={"backend": "databricks"}))
    msg = error_of(with_(warehouse={"backend": "snowflake"}))
    assert "warehouse.backend" in msg and "'duckdb'" in msg and "'databricks'" in msg


def test_environment_overrides() -> None:
    s = parse_settings(GOOD, environ={"GENIE_OBS__TARGET__SCHEMA": "obs", "GENIE_OBS__HISTORY__START_DATE": "2026-02-01",
                                      "UNRELATED": "x"})
    assert s.target.schema_ == "obs" and s.history.start_date == dt.date(2026, 2, 1)
    msg = error_of(GOOD, environ={"GENIE_OBS__TARGET__SCHEME": "obs"})
    assert "target.scheme" in msg and "unknown setting" in msg


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found; set GENIE_OBS_CONFIG"):
        load_settings(tmp_path / "nope.yaml", environ={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("workspaces: [\n")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_settings(bad, environ={})
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n")
    with pytest.raises(SettingsError, match="expected a mapping"):
        load_settings(listy, environ={})


def test_repository_default_settings_file_is_valid() -> None:
    s = load_settings(Path(__file__).resolve().parents[1] / "genie_obs.yaml", environ={})
    assert s.warehouse.backend == "duckdb" and s.sandbox is not None and len(s.workspaces) >= 1


def test_a_token_pasted_into_another_setting_is_not_echoed() -> None:
    token = "dapi0123456789abcdef0123456789abcdef"
    msg = error_of(with_(warehouse={"backend": "databricks", "databricks": {"host": token, "warehouse_id": token}}))
    assert "warehouse.databricks.host" in msg and "warehouse.databricks.warehouse_id" in msg
    assert token not in msg and "looks like a token" in msg


def test_databricks_warehouse_settings_are_validated() -> None:
    base = {"host": "https://adb-1.azuredatabricks.net", "warehouse_id": "0123456789abcdef"}
    assert parse_settings(with_(warehouse={"backend": "databricks", "databricks": base}), environ={}).warehouse.databricks
    bad = {"host": "http://example.com", "warehouse_id": "XYZ", "volume": "a b", "wait_timeout_s": 3}
    msg = error_of(with_(warehouse={"backend": "databricks", "databricks": bad}))
    for setting in ("host", "warehouse_id", "volume", "wait_timeout_s"):
        assert f"warehouse.databricks.{setting}" in msg
    assert "only https://" in msg and "16 lowercase hex" in msg and "0 or 5 to 50" in msg
    assert "needs a 'databricks' section" in error_of(with_(warehouse={"backend": "databricks"}))
