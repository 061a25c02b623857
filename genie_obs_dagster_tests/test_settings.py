"""Every bad setting fails at load with a message naming the setting, the value and what is allowed."""

from __future__ import annotations

import datetime as dt
import traceback
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from genie_obs_dagster.component import PACKAGED_DEFS_YAML, load_component_settings, settings_from_attributes
from genie_obs_dagster.settings import SettingsError, parse_settings

GOOD: dict[str, Any] = {
    "workspaces": [{"id": "1234567890123456", "url": "https://adb-1.cloud.databricks.com/"}],
    "history": {"start_date": "2026-01-01"},
    "ingestion_principal": {"identity": "5b0e6f2a-8c1d-4e7b-9f3a-2d4c6b8a0e1f"},
}


def with_(**changes: Any) -> dict[str, Any]:
    raw = yaml.safe_load(yaml.safe_dump(GOOD))
    raw.update(changes)
    return raw


def error_of(raw: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as exc:
        parse_settings(raw)
    return str(exc.value)


def test_good_settings_have_documented_defaults() -> None:
    s = parse_settings(GOOD)
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
    s = parse_settings(with_(workspaces=[{"id": 1234567890123456, "url": "https://x.cloud.databricks.com"}]))
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
    s = parse_settings(with_(workspaces=[{"id": "1", "url": "http://127.0.0.1:8781"}]))
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
    lookback = parse_settings(with_(history={"lookback_days": 10}))
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
                                          "client_secret": {"secret_scope": "genie-obs", "key": "sp_client_secret"}}))
    assert s.credentials_for("1234567890123456").client_secret.describe() == "secret genie-obs/sp_client_secret"


def test_databricks_backend_needs_its_section() -> None:
    assert "needs a 'databricks' section" in error_of(with_(warehouse={"backend": "databricks"}))
    msg = error_of(with_(warehouse={"backend": "snowflake"}))
    assert "warehouse.backend" in msg and "'duckdb'" in msg and "'databricks'" in msg


def test_missing_and_malformed_component_files(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found; expected the defs.yaml of a"):
        load_component_settings(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("type: genie_obs_dagster.GenieObservabilityComponent\nattributes: [\n")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_component_settings(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("type: genie_obs_dagster.GenieObservabilityComponent\nattributes: [a]\n")
    with pytest.raises(SettingsError, match="'attributes' must be a mapping"):
        load_component_settings(listy)
    other = tmp_path / "other.yaml"
    other.write_text("type: dagster.DefsFolderComponent\nattributes: {}\n")
    with pytest.raises(SettingsError, match="holds 0 genie_obs_dagster.GenieObservabilityComponent instances"):
        load_component_settings(other)


def test_the_projects_component_instance_is_the_embedded_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENIE_OBS_SANDBOX_PORT_1", raising=False)
    monkeypatch.setenv("GENIE_OBS_SANDBOX_PORT_2", "9782")
    s = load_component_settings()  # genie_obs_dagster/defs/genie_obs/defs.yaml
    assert s == load_component_settings(PACKAGED_DEFS_YAML)
    assert s.warehouse.backend == "duckdb" and s.sandbox is not None and len(s.workspaces) == 2
    assert [w.url for w in s.workspaces] == ["http://127.0.0.1:8781", "http://127.0.0.1:9782"]  # ports from env
    assert s.credentials.client_secret.env == "GENIE_OBS_CLIENT_SECRET"  # a reference, never the value


def test_a_token_pasted_into_another_setting_is_not_echoed() -> None:
    token = "dapi0123456789abcdef0123456789abcdef"
    msg = error_of(with_(warehouse={"backend": "databricks", "databricks": {"host": token, "warehouse_id": token}}))
    assert "warehouse.databricks.host" in msg and "warehouse.databricks.warehouse_id" in msg
    assert token not in msg and "looks like a token" in msg


def test_databricks_warehouse_settings_are_validated() -> None:
    base = {"host": "https://adb-1.azuredatabricks.net", "warehouse_id": "0123456789abcdef"}
    assert parse_settings(with_(warehouse={"backend": "databricks", "databricks": base})).warehouse.databricks
    bad = {"host": "http://example.com", "warehouse_id": "XYZ", "volume": "a b", "wait_timeout_s": 3}
    msg = error_of(with_(warehouse={"backend": "databricks", "databricks": bad}))
    for setting in ("host", "warehouse_id", "volume", "wait_timeout_s"):
        assert f"warehouse.databricks.{setting}" in msg
    assert "only https://" in msg and "16 lowercase hex" in msg and "0 or 5 to 50" in msg
    assert "needs a 'databricks' section" in error_of(with_(warehouse={"backend": "databricks"}))


# -- a value that could be a secret is never echoed; more bad input is rejected clearly (issue 10, item 7) ----------

SECRETS = ["dose1234567890abcdef1234567890abcd", "dapi0123456789abcdef0123456789abcdef",
           "Zq8xK2mP9vL4nR7tY1wB6cJ3hF5gD0sA8eU2iO4p"]  # an OAuth secret, a token, a random 40-character string


def full_text(exc: BaseException) -> str:
    """Everything a traceback could print about ``exc``: its text, its repr and its whole exception chain."""
    parts, seen, todo = [], set(), [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        parts += [str(e), repr(e)]
        todo += [e.__cause__, e.__context__]
    return "\n".join(parts + traceback.format_exception(exc))


def failure(raw: dict[str, Any], environ: dict[str, str] | None = None) -> tuple[str, str]:
    """(the message, everything a traceback would show) of the SettingsError that ``raw`` raises as a component's
    attributes, its ``{{ env.X }}`` templates resolved from ``environ``."""
    with pytest.MonkeyPatch.context() as mp, pytest.raises(SettingsError) as exc:
        for name, value in (environ or {}).items():
            mp.setenv(name, value)
        settings_from_attributes(raw, "defs.yaml", dg.ResolutionContext.default().resolve_value)
    return str(exc.value), full_text(exc.value)


DATABRICKS = {"host": "https://adb-1.azuredatabricks.net", "warehouse_id": "0123456789abcdef"}


def _place(where: str, secret: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Settings with an unknown key ``client_secret: <secret>`` typed at ``where``."""
    raw, env = with_(), {}
    extra = {"password" if "credentials" in where else "client_secret": secret}
    if where == "(top level)":
        raw.update(extra)
    elif where == "workspaces.0":
        raw["workspaces"][0].update(extra)
    elif where == "workspaces.0.api":
        raw["workspaces"][0]["api"] = extra
    elif where == "workspaces.0.credentials":
        raw["workspaces"][0]["credentials"] = extra
    elif where == "credentials.client_secret":
        raw["credentials"] = {"client_secret": {"env": "GENIE_OBS_CLIENT_SECRET", "value": secret}}
    elif where == "warehouse.databricks":
        raw["warehouse"] = {"backend": "databricks", "databricks": DATABRICKS | extra}
    elif where == "warehouse.duckdb":
        raw["warehouse"] = {"duckdb": {"path": "data/genie_obs.duckdb"} | extra}
    elif where == "history":
        raw["history"].update(extra)
    elif where.startswith("env:"):  # a template whose variable holds the secret: client_secret: "{{ env.X }}"
        section = where.removeprefix("env:")
        templated = {"client_secret": "{{ env.GENIE_TEST_PASTED }}"}
        if section:
            raw[section] = templated
        else:
            raw.update(templated)
        env = {"GENIE_TEST_PASTED": secret}
    else:
        raw[where] = extra
    return raw, env


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize(("where", "known"), [
    ("(top level)", "workspaces"), ("api", "rate_per_s"), ("workspaces.0", "space_ids"), ("workspaces.0.api", "timeout_s"),
    ("credentials", "client_id"), ("workspaces.0.credentials", "client_id"), ("credentials.client_secret", "secret_scope"),
    ("warehouse", "backend"), ("warehouse.duckdb", "path"), ("warehouse.databricks", "warehouse_id"),
    ("automation", "reconcile_cron"), ("sandbox", "seed"), ("history", "lookback_days"), ("target", "schema"),
    ("sources", "audit"), ("ingestion_principal", "identity"), ("env:", "workspaces"), ("env:api", "rate_per_s"),
    ("env:automation", "lookback_days"),
])
def test_unknown_keys_are_named_with_what_is_allowed_but_never_their_value(where: str, known: str, secret: str) -> None:
    raw, env = _place(where, secret)
    msg, everything = failure(raw, env)
    key = "value" if where == "credentials.client_secret" else "password" if "credentials" in where else "client_secret"
    setting = key if where in ("(top level)", "env:") else f"{where.removeprefix('env:')}.{key}"
    (line,) = [ln for ln in msg.splitlines() if ln.startswith(f"  - {setting}:")]
    assert "unknown setting" in line and "allowed:" in line and known in line.split("allowed:")[1]
    assert secret not in everything


@pytest.mark.parametrize("secret", SECRETS)
def test_a_secret_typed_into_a_wrong_type_or_a_validated_setting_is_never_echoed(secret: str) -> None:
    raw = with_(api=secret, sandbox={"seed": secret}, automation={"reconcile_cron": secret},
                warehouse={"backend": "databricks", "databricks": {"host": "https://adb-1.azuredatabricks.net",
                                                                  "warehouse_id": secret, "volume": f"{secret}-x"}},
                target={"schema": f"{secret};"}, sources={"audit": secret})
    raw["workspaces"].append({"id": secret, "url": f"https://{secret}@x.azuredatabricks.net", "space_ids": [secret]})
    msg, everything = failure(raw)
    for setting in ("api", "sandbox.seed", "automation.reconcile_cron", "warehouse.databricks.warehouse_id",
                    "warehouse.databricks.volume", "target.schema", "sources.audit", "workspaces.1.id",
                    "workspaces.1.url", "workspaces.1.space_ids"):
        assert f"  - {setting}: " in msg
    assert secret not in everything


@pytest.mark.parametrize("name", ["NOT A NAME", "s3cr3t-value", "1ABC", "", "abc$"])
def test_env_reference_that_is_not_a_variable_name_is_rejected_without_echo(name: str) -> None:
    msg, everything = failure(with_(credentials={"client_secret": {"env": name}}))
    (line,) = [ln for ln in msg.splitlines() if "credentials.client_secret" in ln]
    assert line.startswith("  - credentials.client_secret.env: ") and "not an environment variable name" in line
    assert "letters, digits and underscores" in line and "not shown" in line
    if name:
        assert repr(name) not in everything


@pytest.mark.parametrize("secret", SECRETS)
def test_a_secret_pasted_as_the_env_name_is_rejected_without_echo(secret: str) -> None:
    msg, everything = failure(with_(workspaces=[{"id": "1", "url": "https://x.azuredatabricks.net",
                                                 "credentials": {"client_secret": {"env": secret}}}]))
    assert "workspaces.0.credentials.client_secret.env" in msg and "looks like a secret" in msg
    assert secret not in everything


@pytest.mark.parametrize(("url", "problem"), [
    ("https://x.azuredatabricks.net/path", "path"), ("https://x.azuredatabricks.net/a/b/", "path"),
    ("https://x.azuredatabricks.net/?", "query"), ("https://x.azuredatabricks.net?o=123", "query"),
    ("https://x.azuredatabricks.net/#top", "fragment"), ("https://x.azuredatabricks.net:x", "port"),
    ("https://x.azuredatabricks.net/;p", "path"), ("https://x .azuredatabricks.net", "whitespace"),
])
def test_workspace_url_and_warehouse_host_are_bare_hosts(url: str, problem: str) -> None:
    raw = with_(warehouse={"backend": "databricks", "databricks": {"host": url, "warehouse_id": "0123456789abcdef"}})
    raw["workspaces"][0]["url"] = url
    msg, _ = failure(raw)
    for setting in ("workspaces.0.url", "warehouse.databricks.host"):
        (line,) = [ln for ln in msg.splitlines() if ln.startswith(f"  - {setting}: ")]
        assert repr(url) in line and problem in line and "https://<workspace-host>" in line
        assert "http://127.0.0.1:<port>" in line


def test_user_and_password_in_a_url_are_rejected_and_never_echoed() -> None:
    url = "https://token:s3cr3t-pw@x.azuredatabricks.net"
    raw = with_(warehouse={"backend": "databricks", "databricks": {"host": url, "warehouse_id": "0123456789abcdef"}})
    raw["workspaces"][0]["url"] = url
    msg, everything = failure(raw)
    for setting in ("workspaces.0.url", "warehouse.databricks.host"):
        (line,) = [ln for ln in msg.splitlines() if ln.startswith(f"  - {setting}: ")]
        assert "x.azuredatabricks.net" in line and "user name or password" in line and "https://<workspace-host>" in line
    assert "s3cr3t-pw" not in everything and "token:" not in everything
    ok = parse_settings(with_(workspaces=[{"id": "1", "url": "https://x.azuredatabricks.net:443/"}]))
    assert ok.workspaces[0].url == "https://x.azuredatabricks.net:443"


def test_start_date_in_the_future_is_rejected() -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    tomorrow = today + dt.timedelta(days=1)
    msg = error_of(with_(history={"start_date": tomorrow.isoformat()}))
    assert f"history.start_date: {tomorrow.isoformat()} is in the future" in msg and "on or before today" in msg
    assert parse_settings(with_(history={"start_date": today.isoformat()})).history.first_day() == today


@pytest.mark.parametrize("setting", ["reconcile_cron", "space_refresh_cron", "marts_cron"])
@pytest.mark.parametrize("cron", ["61 * * * *", "0 25 * * *", "0 0 31 2 *", "0 3 * * * *", "* * * *", "daily"])
def test_invalid_cron_is_named_as_the_setting(setting: str, cron: str) -> None:
    msg = error_of(with_(automation={setting: cron}))
    assert (f"  - automation.{setting}: {cron!r} is not a valid cron expression; allowed: five fields "
            '"minute hour day-of-month month day-of-week", e.g. "0 3 * * *"') in msg.splitlines()


def test_valid_crons_are_accepted() -> None:
    s = parse_settings(with_(automation={"reconcile_cron": "*/15 1-5 * * MON-FRI", "space_refresh_cron": "0 4 * * *"}))
    assert s.automation.reconcile_cron == "*/15 1-5 * * MON-FRI"


def test_duckdb_path_whose_folder_cannot_be_created_is_rejected(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for path in (blocker / "wh.duckdb", blocker / "sub" / "wh.duckdb"):
        msg = error_of(with_(warehouse={"duckdb": {"path": str(path)}}))
        (line,) = [ln for ln in msg.splitlines() if ln.startswith("  - warehouse.duckdb.path: ")]
        assert repr(str(path)) in line and "cannot be created" in line and str(blocker) in line
        assert "a writable folder" in line
    msg = error_of(with_(warehouse={"duckdb": {"path": str(tmp_path)}}))
    assert "warehouse.duckdb.path" in msg and "is a folder, not a file" in msg
    assert "warehouse.duckdb.path" in error_of(with_(warehouse={"duckdb": {"path": ""}}))


def test_loading_settings_has_no_side_effects(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "wh.duckdb"
    raw = with_(warehouse={"duckdb": {"path": str(path)}})
    before = yaml.safe_dump(raw)
    s = parse_settings(raw)
    assert s.warehouse.duckdb.path == str(path) and not (tmp_path / "new").exists()  # checked, not created
    assert yaml.safe_dump(raw) == before  # the caller's mapping is not changed
    assert parse_settings(with_(warehouse={"duckdb": {"path": ":memory:"}}))


def test_yaml_errors_point_at_the_place_without_echoing_the_text(tmp_path: Path) -> None:
    secret = SECRETS[0]
    bad = tmp_path / "defs.yaml"
    bad.write_text(f"type: genie_obs_dagster.GenieObservabilityComponent\nattributes:\n  api: {{}}\n"
                   f"  client_secret: {secret}: oops\n")
    with pytest.raises(SettingsError) as exc:
        load_component_settings(bad)
    assert "not valid YAML" in str(exc.value) and "line 4" in str(exc.value)
    assert secret not in full_text(exc.value)


def test_every_problem_is_one_line() -> None:
    raw = with_(automation={"reconcile_cron": "61 * * * *"}, history={"start_date": "2999-01-01"}, shema="x")
    raw["workspaces"][0]["url"] = "https://u:p@x.azuredatabricks.net/a?b#c"
    lines = error_of(raw).splitlines()
    assert lines[0] == "invalid settings in settings:" and len(lines) == 5
    assert all(ln.startswith("  - ") for ln in lines[1:])


# -- evals (benchmarks on a schedule) --------------------------------------------------------------------------


def test_evals_section_is_optional_with_documented_defaults() -> None:
    assert parse_settings(GOOD).evals is None  # no section: no eval-run assets or schedules
    e = parse_settings(with_(evals={})).evals
    assert e is not None and (e.cron, e.spaces, e.collect_cron, e.accuracy_drop_margin, e.page_size) == (
        "0 5 * * 1", {}, "*/30 * * * *", 0.1, 100)
    sid = "0123456789abcdef0123456789abcdef"
    e = parse_settings(with_(evals={"spaces": {sid: "0 6 * * *", "f" * 32: None}})).evals
    assert e is not None and e.cron_for(sid) == "0 6 * * *" and e.cron_for("f" * 32) is None
    assert e.cron_for("a" * 32) == "0 5 * * 1" and e.crons == ["0 5 * * 1", "0 6 * * *"]


@pytest.mark.parametrize(("evals", "expected"), [
    ({"cron": "every monday"}, ["evals.cron", "'every monday' is not a valid cron expression", "five fields"]),
    ({"collect_cron": "61 * * * *"}, ["evals.collect_cron", "not a valid cron expression"]),
    ({"spaces": {"abc": "0 5 * * 1"}}, ["evals.spaces", "space id 'abc'", "32 lowercase hex"]),
    ({"spaces": {"a" * 32: "0 25 * * *"}}, ["evals.spaces", f"cron of space {'a' * 32}", "'0 25 * * *'"]),
    ({"accuracy_drop_margin": 1.5}, ["evals.accuracy_drop_margin", "less than or equal to 1"]),
    ({"accuracy_drop_margin": -0.1}, ["evals.accuracy_drop_margin", "greater than or equal to 0"]),
    ({"page_size": 500}, ["evals.page_size"]),
    ({"margin": 0.2}, ["evals.margin: unknown setting (its value is not shown)", "allowed: cron, spaces, collect_cron"]),
])
def test_bad_evals_settings_name_the_setting(evals: dict[str, Any], expected: list[str]) -> None:
    msg = error_of(with_(evals=evals))
    assert all(part in msg for part in expected), msg
