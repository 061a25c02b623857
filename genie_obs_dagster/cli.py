"""Command line: ``genie-obs demo`` runs the whole graph on the embedded default; ``genie-obs lakeview`` writes
or publishes the AI/BI dashboard."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg

from .component import PACKAGED_DEFS_YAML, load_component_settings
from .settings import Settings, SettingsError

DEFS_HELP = (f"the defs.yaml of a GenieObservabilityComponent instance, whose attributes are the settings "
             f"(default: this project's embedded default, {Path(PACKAGED_DEFS_YAML).relative_to(Path(PACKAGED_DEFS_YAML).parents[3])})")


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set (the Makefile sets it) runs are kept, so `make dev` shows the demo's history.
    if os.environ.get("DAGSTER_HOME"):
        Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="genie-obs", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate the sandbox and materialize every asset on the embedded default")
    demo.add_argument("--defs", metavar="DEFS_YAML", help=DEFS_HELP)
    demo.add_argument("--backend", choices=("duckdb", "databricks"), default=None,
                      help="duckdb: the embedded warehouse; databricks: every asset through the Databricks back end "
                      "(Statement Execution API, Files API) against the simulated workspace's SQL warehouse "
                      "(default: warehouse.backend of the settings)")
    sandbox = sub.add_parser("sandbox", help="serve the settings' simulated workspaces and keep delivering audit rows")
    sandbox.add_argument("--defs", metavar="DEFS_YAML", help=DEFS_HELP)
    sandbox.add_argument("--deliver-every", type=float, default=30.0, help="seconds between audit deliveries")
    sandbox.add_argument("--write-env", metavar="FILE", help="write the sandbox credentials and its workspaces' ports "
                         "(GENIE_OBS_SANDBOX_PORT_1, ...) to this .env file (dg dev loads the project's .env)")
    lakeview = sub.add_parser("lakeview", help="write the AI/BI (Lakeview) dashboard definition; with --publish, "
                              "create or update it in a workspace")
    lakeview.add_argument("--defs", metavar="DEFS_YAML", help=DEFS_HELP)
    lakeview.add_argument("--out", metavar="FILE", help="write the definition here (a .lvdash.json file)")
    lakeview.add_argument("--publish", action="store_true", help="create or update the dashboard in --workspace-id")
    lakeview.add_argument("--workspace-id", help="configured workspace to publish to (its url and credentials are used)")
    lakeview.add_argument("--warehouse-id", help="SQL warehouse the dashboard runs on "
                          "(default: warehouse.databricks.warehouse_id from the settings)")
    lakeview.add_argument("--parent-path", default=None, help="workspace folder, created when missing "
                          "(default: /Workspace/Shared/genie-obs)")
    lakeview.add_argument("--name", default=None, help="dashboard name (default: Genie observability)")
    lakeview.add_argument("--dashboard-id", help="update this dashboard (default: the one of that name in that folder)")
    lakeview.add_argument("--draft", action="store_true", help="update the draft only, do not publish it to viewers")
    doctor = sub.add_parser("doctor", help="check every permission the product needs (warehouse, system tables, "
                            "target schema and volume, Genie spaces in each workspace) and print what to grant")
    doctor.add_argument("--defs", metavar="DEFS_YAML", help=DEFS_HELP)
    load = sub.add_parser("initial-load", help="launch the initial load (an asset backfill of every partition) "
                          "through the running Dagster webserver (make dev)")
    load.add_argument("--url", default="http://127.0.0.1:3000", help="the Dagster webserver")
    load.add_argument("--workspace", help="only this workspace's partitions (a workspace added later)")
    add_generate_parser(sub)
    add_spaces_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "initial-load":
        return initial_load(args.url, args.workspace)
    try:
        settings = load_component_settings(args.defs)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "demo":
        from .demo import run_demo_command

        return run_demo_command(settings, args.backend, _instance())
    elif args.command == "doctor":
        return run_doctor_command(settings)
    elif args.command == "sandbox":
        return serve_sandbox(settings, args.deliver_every, args.write_env)
    elif args.command == "lakeview":
        return run_lakeview(settings, args)
    elif args.command == "generate-conversations":
        return run_generate_command(settings, args)
    elif args.command == "spaces":
        return run_spaces_command(settings, args)
    return 0


def add_generate_parser(sub: Any) -> None:
    gen = sub.add_parser("generate-conversations", help="ask test questions (sample questions and benchmarks of each "
                         "space) through the Genie API, at most 5 a minute, and record them in generated_conversations")
    gen.add_argument("--defs", metavar="DEFS_YAML", help=DEFS_HELP)
    gen.add_argument("--workspace", required=True, help="the configured workspace id to ask in")
    gen.add_argument("--space", action="append", default=[], metavar="SPACE_ID",
                     help="a space to ask in (repeatable; default: the workspace's allow list, else every space)")
    gen.add_argument("--questions", type=int, default=1, metavar="N", help="conversations started per space (1-20, default 1)")
    gen.add_argument("--follow-ups", type=int, default=1, metavar="0-2",
                     help="follow-up questions per conversation (0, 1 or 2; default 1)")
    gen.add_argument("--poll-timeout", type=float, default=600.0, metavar="SECONDS",
                     help="give up polling a message after this long (more than 0, at most 86400; default 600)")


def run_generate_command(settings: Settings, args: argparse.Namespace) -> int:
    """Ask, poll, record; print one line per question. Exit 2 on bad options, 1 if a question could not be asked."""
    from .lifecycle import conversations as C
    from .resources import GenieResource, open_warehouse

    opts = C.GenerateOptions(workspace_id=args.workspace, space_ids=tuple(args.space), questions=args.questions,
                             follow_ups=args.follow_ups, poll_timeout_s=args.poll_timeout)
    genie = GenieResource.from_settings(settings)
    try:
        C.validate(settings, opts)
        asker, asked_as = C.asker_client(settings, opts)
    except C.OptionsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        with open_warehouse(settings) as wh:
            wh.ensure_schema()
            out = C.generate(settings, opts, genie.client(opts.workspace_id), asker, asked_as,
                             sink=lambda rows: wh.merge_rows(C.TABLE, C.rows_table(rows), C.KEYS),
                             log=lambda line: print(line, flush=True))
    except C.GenerateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        asker.close()
        for client in genie._clients.values():
            client.close()
    print("\n".join(C.summary_lines(out)))
    print(f"recorded in {C.TABLE}; the asset check {C.TABLE}:generated_messages_found (job "
          "genie_check_generated_conversations) follows them once their audit rows arrive")
    return 1 if any(r["message_id"] is None for r in out.rows) else 0


def add_spaces_parser(sub: Any) -> None:
    spaces = sub.add_parser("spaces", help="Genie space lifecycle: promote a space across workspaces, back up every "
                            "configuration version, restore one")
    ssub = spaces.add_subparsers(dest="spaces_command", required=True)
    promote = ssub.add_parser("promote", help="create or update a space in another workspace from a space's "
                              "configuration, with catalogs and schemas remapped")
    promote.add_argument("--defs", metavar="DEFS_YAML", help=DEFS_HELP)
    promote.add_argument("--from", dest="from_ws", required=True, metavar="WS", help="configured workspace id of the source")
    promote.add_argument("--space", required=True, metavar="ID", help="the source space id")
    promote.add_argument("--to", dest="to_ws", required=True, metavar="WS", help="configured workspace id of the target")
    promote.add_argument("--target-space", metavar="ID", help="update this space (default: create a new one)")
    promote.add_argument("--remap-catalog", action="append", default=[], metavar="OLD=NEW",
                         help="rename a catalog in table names and SQL (repeatable)")
    promote.add_argument("--remap-schema", action="append", default=[], metavar="OLD.S=NEW.S",
                         help="rename a catalog.schema in table names and SQL (repeatable; wins over --remap-catalog)")
    promote.add_argument("--warehouse-id", metavar="ID", help="SQL warehouse of the target space "
                         "(default: the target space's, else the source's)")
    promote.add_argument("--dry-run", action="store_true", help="print the semantic diff, change nothing")
    promote.add_argument("--force", action="store_true", help="update even if the target space changed since it was read")
    promote.add_argument("--etag", help="refuse (unless --force) if the target space's etag is no longer this one "
                         "(the etag a dry run printed)")
    backup = ssub.add_parser("backup", help="write every configuration version in genie_space_config_history as "
                             "a JSON file (what the genie_space_backups asset does)")
    backup.add_argument("--defs", metavar="DEFS_YAML", help=DEFS_HELP)
    backup.add_argument("--workspace", metavar="WS", help="only this configured workspace (default: all)")
    restore = ssub.add_parser("restore", help="put a backed-up configuration version back into a space")
    restore.add_argument("--defs", metavar="DEFS_YAML", help=DEFS_HELP)
    restore.add_argument("--workspace", required=True, metavar="WS", help="configured workspace id of the space")
    restore.add_argument("--space", required=True, metavar="ID", help="the space to restore into")
    restore.add_argument("--version", required=True, metavar="HASH_OR_FILE",
                         help="config hash (or a unique prefix of 6+ characters) of a backup of that space, or a backup file")
    restore.add_argument("--from-space", metavar="ID", help="the backup belongs to this space (default: --space)")
    restore.add_argument("--force", action="store_true", help="overwrite even if the space changed while restoring")


def run_spaces_command(settings: Settings, args: argparse.Namespace) -> int:
    """``genie-obs spaces promote|backup|restore``: exit 2 on bad options, 1 when refused or failed."""
    from .assets.space_lifecycle import backup_folder
    from .lifecycle import backup as B
    from .lifecycle import promotion as P
    from .resources import GenieResource, open_warehouse

    options = {"promote": ("--from", "from_ws", "--to", "to_ws"), "restore": ("--workspace", "workspace"),
               "backup": ("--workspace", "workspace")}[args.spaces_command]
    for option, attr in zip(options[::2], options[1::2], strict=True):
        value = getattr(args, attr)
        if value is not None and value not in settings.workspace_ids:
            print(f"error: {option} {value!r} is not a configured workspace; configured: "
                  f"{', '.join(settings.workspace_ids)}", file=sys.stderr)
            return 2
    genie = GenieResource.from_settings(settings)
    try:
        if args.spaces_command == "backup":
            with open_warehouse(settings) as wh:
                wh.ensure_schema()
                rows = B.history_rows(wh, args.workspace or "")
                done = B.write_backups(rows, B.store_for(wh, backup_folder(settings)))
            print(f"{done.versions} configuration version(s), {done.written} new backup file(s) in {done.location}")
            return 0
        if args.spaces_command == "restore":
            with open_warehouse(settings) as wh:
                store = B.store_for(wh, backup_folder(settings))
                doc = B.load_backup(store, args.workspace, args.from_space or args.space, args.version)
            got = B.restore(genie.client(args.workspace), args.space, doc, force=args.force)
            if not got.changed:
                print(f"space {args.space} already has configuration {got.config_hash[:12]}: nothing to do")
            else:
                print(f"restored configuration {got.config_hash[:12]} into space {args.space} of workspace "
                      f"{args.workspace} (etag {got.etag}); the next space refresh records it")
            return 0
        remap = P.Remap.from_options(args.remap_catalog, args.remap_schema)
        with open_warehouse(settings) as wh:
            plan = P.plan_promotion(genie.client(args.from_ws), args.space, genie.client(args.to_ws),
                                    target_space_id=args.target_space, remap=remap, warehouse_id=args.warehouse_id,
                                    table_lookup=P.warehouse_table_lookup(wh), expected_etag=args.etag, force=args.force)
        print("\n".join(plan.lines()))
        if args.dry_run:
            return 1 if plan.missing_tables else 0
        done = P.apply_promotion(plan, genie.client(args.to_ws), force=args.force)
        print(f"{'created' if done.created else 'updated'} space {done.space_id} in workspace {args.to_ws}"
              f"{' (forced over a newer target)' if done.forced else ''}; etag {done.etag}; configuration "
              f"{'verified' if done.verified else 'NOT equal to the remapped source when read back'}")
        return 0 if done.verified else 1
    except (P.PromotionError, B.BackupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, (P.BadOption, B.BadOption)) else 1
    finally:
        for client in genie._clients.values():
            client.close()


def run_doctor_command(settings: Settings) -> int:
    """Print one line per check and the exact grant for each failure; exit 1 if any check failed."""
    from .doctor import run_doctor
    from .resources import GenieResource, open_warehouse

    genie = GenieResource.from_settings(settings)
    try:
        with open_warehouse(settings) as wh:
            findings = run_doctor(settings, wh, genie.client)
    except Exception as exc:  # e.g. the control workspace's credentials are missing: say so, no stack trace
        print(f"FAIL warehouse connection: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        for client in genie._clients.values():
            client.close()
    for finding in findings:
        print("\n".join(finding.lines()))
    failed = sum(not f.ok for f in findings)
    print(f"{len(findings) - failed} passed, {failed} failed")
    return 1 if failed else 0


def initial_load(url: str, workspace_id: str | None) -> int:
    import requests

    from .initial_load import LaunchError, launch_initial_load

    try:
        backfill_id = launch_initial_load(url, workspace_id)
    except (LaunchError, requests.RequestException) as exc:
        print(f"error: could not launch the initial load through {url}: {exc} (is `make dev` running?)", file=sys.stderr)
        return 1
    print(f"launched backfill {backfill_id}; progress: {url.rstrip('/')}/runs/b/{backfill_id}")
    return 0


def workspace_client(settings: Settings, workspace_id: str) -> Any:
    """An SDK client for a configured workspace, with the settings' OAuth M2M credentials."""
    from databricks.sdk import WorkspaceClient

    from .genie.auth import resolve_secret

    creds = settings.credentials_for(workspace_id)
    return WorkspaceClient(host=settings.workspace(workspace_id).url, client_id=resolve_secret(creds.client_id),
                           client_secret=resolve_secret(creds.client_secret))


def run_lakeview(settings: Settings, args: argparse.Namespace,
                 make_client: Callable[[Settings, str], Any] = workspace_client) -> int:
    """Write the Lakeview definition and/or create-or-update it in a workspace."""
    from .dashboard import lakeview
    from .warehouse import TableNames

    dashboard = lakeview.serialized_dashboard(TableNames.from_settings(settings))
    if args.out:
        Path(args.out).write_text(json.dumps(dashboard, indent=2) + "\n")
        print(f"wrote the Lakeview dashboard ({len(dashboard['datasets'])} datasets, {len(dashboard['pages']) - 1} pages) "
              f"to {args.out}")
    if not args.publish:
        if not args.out:
            print("error: give --out FILE, --publish, or both", file=sys.stderr)
            return 2
        return 0
    warehouse_id = args.warehouse_id or (settings.warehouse.databricks.warehouse_id if settings.warehouse.databricks else None)
    if not args.workspace_id or not warehouse_id:
        print("error: --publish needs --workspace-id and a warehouse (--warehouse-id or warehouse.databricks.warehouse_id)",
              file=sys.stderr)
        return 2
    try:
        settings.workspace(args.workspace_id)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    from databricks.sdk.errors import DatabricksError

    try:
        done = lakeview.deploy(make_client(settings, args.workspace_id), dashboard, warehouse_id=warehouse_id,
                               parent_path=args.parent_path or lakeview.DEFAULT_PARENT_PATH,
                               display_name=args.name or lakeview.DISPLAY_NAME, dashboard_id=args.dashboard_id,
                               publish=not args.draft)
    except (DatabricksError, lakeview.LakeviewError) as exc:  # the workspace's answer, without a stack trace
        print(f"error: workspace {args.workspace_id} refused the dashboard: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 1
    print(f"{'created' if done.created else 'updated'} dashboard {done.dashboard_id}"
          f"{' and published it' if done.published else ' (draft)'} in workspace {args.workspace_id}"
          f"{f' at {done.path}' if done.path else ''}")
    return 0


def serve_sandbox(settings: Settings, deliver_every: float, env_file: str | None = None) -> int:
    """Foreground process for `make dev`: simulated workspaces plus audit delivery into the embedded warehouse."""
    from .sandbox.runtime import TEST_ASKER, env_file_lines, start_sandbox
    from .sandbox.server.app import serve_until_stopped

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        box = start_sandbox(settings, export_credentials=False)
    except OSError as exc:  # a port taken: say which, no stack trace
        print(f"error: {exc}", file=sys.stderr)
        return 1
    box.deliver_every(deliver_every)

    def announce() -> None:  # inside the serving loop's guard: a Ctrl-C right after it stops cleanly
        for wid, url in box.sim.urls.items():
            print(f"simulated workspace {wid}: {url}")
        # Sandbox credentials, not a real secret: printed so that clients can be pointed at the sandbox.
        print(f"OAuth M2M client_id={box.sim.client_id} client_secret={box.sim.client_secret}")
        print(f"test asker (genie-obs generate-conversations): client_id={TEST_ASKER.client_id} "
              f"client_secret={TEST_ASKER.client_secret}")
        if env_file:
            Path(env_file).write_text("".join(f"{line}\n" for line in env_file_lines(box)))
            print(f"wrote the sandbox credentials and workspace ports to {env_file}")
        print(f"audit rows delivered to {settings.warehouse.duckdb.path}: {box.loaded_rows}; Ctrl-C to stop", flush=True)

    serve_until_stopped(box.stop, announce)
    return 0


if __name__ == "__main__":
    sys.exit(main())
