"""The wheel is the product: built from the sources, installed outside any checkout, it runs `genie-obs demo`.

The wheel is built from a copy of the sources (so no build/ or egg-info lands in the checkout) with the venv's
own setuptools (no build isolation, no network), installed with ``pip --target`` into a temporary folder, and
run from an empty working directory with only that folder on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "genie_obs_dagster"
# Top-level entries of the checkout that are not sources (.gitignore plus build outputs).
NOT_SOURCES = {".git", ".venv", "data", ".dagster_home", "build", "dist", ".pytest_cache", ".ruff_cache",
               "test-artifacts", ".env"}
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def _copy_sources(dest: Path) -> Path:
    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n == "__pycache__" or n.endswith(".pyc")}
        if Path(folder) == REPO:
            skipped |= {n for n in names if n in NOT_SOURCES or n.endswith(".egg-info") or n.startswith("tmp")}
        return skipped

    shutil.copytree(REPO, dest, ignore=ignore)
    return dest


def _run(cmd: list[str | Path], cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the source copy it was built from)."""
    tmp = tmp_path_factory.mktemp("packaging")
    src = _copy_sources(tmp / "src")
    out = tmp / "wheelhouse"
    _run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", out, src], cwd=tmp)
    (wheel,) = out.glob("genie_obs_dagster-*.whl")
    return wheel, src


@pytest.fixture(scope="module")
def site(built: tuple[Path, Path]) -> Path:
    wheel, src = built
    target = src.parent / "site"
    _run([*PIP, "install", "--no-deps", "--no-index", "-q", "--target", target, wheel], cwd=src.parent)
    return target


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """An empty working directory outside the checkout and an environment that knows nothing of the checkout."""
    work = tmp_path / "empty"
    work.mkdir()
    assert REPO not in work.parents
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GENIE_OBS", "DAGSTER_", "PYTHON")) and k != "VIRTUAL_ENV"}
    yield work, env


def test_wheel_holds_the_product_and_nothing_else(built: tuple[Path, Path]) -> None:
    wheel, src = built
    names = zipfile.ZipFile(wheel).namelist()
    assert len(names) == len(set(names))
    assert {n.split("/")[0] for n in names} == {PACKAGE, wheel.name.split("-py3")[0] + ".dist-info"}
    files = set(names)

    sql = {f"{PACKAGE}/sql/{p.relative_to(src / 'sql').as_posix()}" for p in (src / "sql").rglob("*.sql")}
    assert len(sql) > 80
    assert sql - files == set(), "SQL files missing from the wheel"
    assert {n for n in files if n.endswith(".sql")} == sql, "SQL files in the wheel once each, under genie_obs_dagster/sql/"

    modules = {f"{PACKAGE}/{p.relative_to(src / PACKAGE).as_posix()}" for p in (src / PACKAGE).rglob("*.py")}
    assert modules - files == set(), "modules missing from the wheel: list their package in pyproject.toml"
    static = {f"{PACKAGE}/{p.relative_to(src / PACKAGE).as_posix()}"
              for p in (src / PACKAGE / "dashboard" / "static").iterdir()}
    assert static and static <= files
    assert f"{PACKAGE}/defs/genie_obs/defs.yaml" in files  # the component instance: embedded default and scaffold
    assert not any("tests" in n or n.startswith(("bench/", "sql/")) for n in files)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "genie-obs = genie_obs_dagster.cli:main" in entry_points
    assert "[dagster_dg_cli.registry_modules]\ngenie_obs_dagster = genie_obs_dagster" in entry_points  # dg finds it


CHECK_INSTALLED = """
import json
import genie_obs_dagster
import dagster as dg
from genie_obs_dagster.component import PACKAGED_DEFS_YAML
from genie_obs_dagster.definitions import defs as code_location
from genie_obs_dagster.warehouse import sql

names = sorted(p.relative_to(sql.SQL_DIR).with_suffix("").as_posix() for p in sql.SQL_DIR.rglob("*.sql"))
parsed = sum(len(sql.parse_file(n)) for n in names)
defs = code_location()  # the defs folder's component instance, with no pyproject.toml around the installed package
dg.Definitions.validate_loadable(defs)
print(json.dumps({"package": genie_obs_dagster.__file__, "sql_dir": str(sql.SQL_DIR), "files": len(names),
                  "statements": parsed, "config": str(PACKAGED_DEFS_YAML),
                  "jobs": sorted(j.name for j in defs.resolve_all_job_defs())}))
"""


def test_installed_wheel_finds_its_sql_and_settings(site: Path, built: tuple[Path, Path],
                                                    outside: tuple[Path, dict[str, str]]) -> None:
    work, env = outside
    proc = _run([sys.executable, "-c", CHECK_INSTALLED], cwd=work, env={**env, "PYTHONPATH": str(site)})
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(got["package"]).is_relative_to(site)
    assert Path(got["sql_dir"]) == site / PACKAGE / "sql"
    assert Path(got["config"]) == site / PACKAGE / "defs" / "genie_obs" / "defs.yaml"
    assert got["files"] == len(list((built[1] / "sql").rglob("*.sql"))) and got["statements"] >= got["files"]
    assert {"genie_ingest", "genie_marts", "genie_space_refresh"} <= set(got["jobs"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_installed_wheel_runs_the_demo_from_an_empty_folder(site: Path, outside: tuple[Path, dict[str, str]]) -> None:
    work, env = outside
    # The packaged instance, made small: one simulated workspace, two days, few questions (a user's own defs.yaml).
    small = yaml.safe_load((REPO / PACKAGE / "defs" / "genie_obs" / "defs.yaml").read_text())
    small["attributes"]["workspaces"] = [{"id": "1234567890123456", "url": f"http://127.0.0.1:{_free_port()}"}]
    small["attributes"]["history"] = {"lookback_days": 2}
    small["attributes"]["sandbox"].update(spaces_per_workspace=2, users=6, questions_per_day=8)
    (work / "defs.yaml").write_text(yaml.safe_dump(small))
    proc = _run([site / "bin" / "genie-obs", "demo", "--defs", "defs.yaml"], cwd=work,
                env={**env, "PYTHONPATH": str(site)})
    truth = next((line for line in proc.stdout.splitlines() if line.startswith("against the scenario's ground truth")),
                 None)
    assert truth is not None, proc.stdout
    assert "0 unexpected, 0 with a wrong asker" in truth, truth
    assert (work / "data" / "genie_obs.duckdb").is_file()
    assert (work / "data" / "dashboard" / "index.html").is_file()
