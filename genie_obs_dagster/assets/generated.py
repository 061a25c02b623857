"""Test conversations in Dagster: the ``generated_conversations`` asset (run config = the command's options), the
``genie_generate_conversations`` job, and the check that every generated message went the whole audit path.

Plain logic lives in ``lifecycle/conversations.py``; this is wiring.
"""

# No `from __future__ import annotations` here: Dagster inspects the asset function's type hints at runtime.

from typing import Any

import dagster as dg

from ..lifecycle import conversations as C
from ..resources import GenieResource, WarehouseResource
from ..settings import Settings
from .common import int_metadata
from .table_metadata import ROW_COUNT, table_metadata, with_python_source

GENERATED_GROUP = "genie_test_conversations"
GENERATE_JOB = "genie_generate_conversations"
CHECK_JOB = "genie_check_generated_conversations"
CHECK_NAME = "generated_messages_found"


class GenerateConversationsConfig(dg.Config):
    """The options of ``genie-obs generate-conversations``, as run config."""

    workspace: str
    space_ids: list[str] = []
    questions: int = 1
    follow_ups: int = 1
    poll_timeout_s: float = 600.0
    asker_client_id_env: str = C.ASKER_CLIENT_ID_ENV
    asker_client_secret_env: str = C.ASKER_CLIENT_SECRET_ENV

    def options(self) -> C.GenerateOptions:
        return C.GenerateOptions(workspace_id=self.workspace, space_ids=tuple(self.space_ids),
                                 questions=self.questions, follow_ups=self.follow_ups,
                                 poll_timeout_s=self.poll_timeout_s, asker_client_id_env=self.asker_client_id_env,
                                 asker_client_secret_env=self.asker_client_secret_env)


def build_generated_assets(settings: Settings) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """The asset and its check (both need the settings)."""

    @dg.asset(
        name=C.TABLE,
        group_name=GENERATED_GROUP,
        kinds={"python", "databricks"},
        owners=["team:platform"],
        metadata=table_metadata(settings, C.TABLE, sql=[C.CHECK_SQL]),
        description="Test questions asked through the Genie API (sample questions and benchmarks of each space's "
        "serialized_space), at most 5 a minute per workspace, each polled to its final status: one row per question "
        "by MERGE. Run the genie_generate_conversations job with run config {workspace, space_ids, questions, "
        "follow_ups}.",
    )
    def generated_conversations(context: dg.AssetExecutionContext, config: GenerateConversationsConfig,
                                warehouse: WarehouseResource, genie: GenieResource) -> dg.MaterializeResult:
        opts = config.options()
        try:
            C.validate(settings, opts)
            asker, asked_as = C.asker_client(settings, opts)
        except C.OptionsError as exc:
            raise dg.Failure(description=str(exc)) from None

        def write(rows: list[dict[str, Any]]) -> None:
            with warehouse.session(context) as wh:
                wh.ensure_schema()
                wh.merge_rows(C.TABLE, C.rows_table(rows), C.KEYS)

        try:
            out = C.generate(settings, opts, genie.client(opts.workspace_id), asker, asked_as,
                             generation_id=context.run.run_id, sink=write, log=context.log.info)
        finally:
            asker.close()
        for line in C.summary_lines(out):
            context.log.info(line)
        return dg.MaterializeResult(metadata={
            **int_metadata({ROW_COUNT: len(out.rows), "questions_asked": out.asked, "spaces": len(out.spaces),
                            "skipped_spaces": len(out.skipped_spaces),
                            "timed_out": out.count(timed_out=True), "recovered_lost_answers": out.count(recovered=True),
                            "api_throttled_429": asker.stats.throttled}),
            "generation_id": dg.MetadataValue.text(out.generation_id),
            "workspace_id": dg.MetadataValue.text(out.workspace_id),
            "final_status": dg.MetadataValue.json(out.by_status()),
        })

    @dg.asset_check(asset=generated_conversations, name=CHECK_NAME,
                    description="Every generated message (those asked within 7 days of the latest) reaches message_details with the final "
                    "status the generator saw, once its audit rows have arrived; names each one that did not, and why.")
    def generated_messages_found(context: dg.AssetCheckExecutionContext,
                                 warehouse: WarehouseResource) -> dg.AssetCheckResult:
        # The op's context: what the warehouse's pool slot and query tags (run, job, asset) are read from.
        with warehouse.session(context.op_execution_context) as wh:
            wh.ensure_schema()
            rows = {ws: wh.query(C.CHECK_SQL, {"workspace_id": ws}).to_pylist()
                    for ws in settings.workspace_ids}
        checked, findings = C.check_generated(rows)
        in_flight = [f for f in findings if f.in_flight]
        lines = [f.line() for f in findings]
        return dg.AssetCheckResult(
            passed=not findings,
            # Audit rows still in flight are expected for a while after a generation: a warning, not an error.
            severity=dg.AssetCheckSeverity.WARN if len(in_flight) == len(findings) else dg.AssetCheckSeverity.ERROR,
            description=(f"all {checked} generated message(s) found with their final status" if not findings else
                         f"{len(findings)} of {checked} generated message(s) not found:\n" + "\n".join(lines[:50])),
            metadata={**int_metadata({"generated_messages": checked, "not_found": len(findings),
                                      "audit_rows_not_arrived": len(in_flight)}),
                      "not_found_messages": dg.MetadataValue.json([
                          {"workspace_id": f.workspace_id, "message_id": f.message_id, "space_id": f.space_id,
                           "reason": f.reason} for f in findings[:200]])},
        )

    return with_python_source([generated_conversations]), [generated_messages_found]


def build_generated_jobs() -> list[Any]:
    return [
        dg.define_asset_job(
            GENERATE_JOB, selection=dg.AssetSelection.assets(C.TABLE),
            description="Ask test questions in a workspace's Genie spaces (run config: workspace, space_ids, questions, "
            "follow_ups) and record them in generated_conversations; its check then follows them down the audit path.",
        ),
        dg.define_asset_job(
            CHECK_JOB, selection=dg.AssetSelection.checks_for_assets(C.TABLE),
            description="Only the check: are the generated messages in message_details with their final status yet?",
        ),
    ]
