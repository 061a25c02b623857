-- One row per benchmark question evaluated by a finished Genie eval run, with its assessment (from the
-- result details). Written once per run by the genie_eval_runs asset (MERGE on workspace_id, eval_run_id,
-- result_id). Clustered by (workspace_id, space_id): readers filter by workspace and space.
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_eval_results (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id',
  eval_run_id STRING NOT NULL COMMENT 'Eval run the result belongs to (genie_eval_runs)',
  result_id STRING NOT NULL COMMENT 'Eval result id',
  benchmark_question_id STRING COMMENT 'Id of the benchmark question in the space configuration (benchmarks.questions)',
  question STRING COMMENT 'The benchmark question',
  benchmark_answer STRING COMMENT 'The expected answer of the benchmark (SQL)',
  status STRING COMMENT 'Status of the result as the API reports it',
  assessment STRING COMMENT 'GOOD, BAD or NEEDS_REVIEW',
  is_correct BOOLEAN NOT NULL COMMENT 'True when the assessment is GOOD (NEEDS_REVIEW is not correct)',
  assessment_reasons STRING COMMENT 'Reasons given for the assessment (JSON array)',
  manual_assessment STRING COMMENT 'Assessment set by a person in the UI, when any',
  actual_response STRING COMMENT 'What Genie answered (JSON array of responses)',
  created_by_user STRING COMMENT 'Who ran the evaluation, as the API reports it',
  fetched_at TIMESTAMP NOT NULL COMMENT 'When the result was read from the API (UTC)'
) USING DELTA
CLUSTER BY (workspace_id, space_id)
COMMENT 'Per-question results of finished Genie eval runs';
