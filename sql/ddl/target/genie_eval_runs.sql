-- One row per Genie eval run (benchmark run) of a space, as the API last reported it; a run still in progress is
-- updated by later collections until it is final. Written by the genie_eval_runs asset (MERGE on
-- workspace_id, eval_run_id). Clustered by (workspace_id, space_id): readers filter by workspace and space.
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_eval_runs (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id whose benchmarks the run evaluated',
  eval_run_id STRING NOT NULL COMMENT 'Eval run id, unique within the workspace',
  eval_run_status STRING NOT NULL COMMENT 'NOT_STARTED, RUNNING, DONE, EVALUATION_FAILED, EVALUATION_CANCELLED or EVALUATION_TIMEOUT',
  is_final BOOLEAN NOT NULL COMMENT 'True once the status can no longer change (DONE or EVALUATION_*)',
  created_timestamp BIGINT COMMENT 'Creation time as the API returns it (epoch milliseconds)',
  last_updated_timestamp BIGINT COMMENT 'Latest change as the API returns it (epoch milliseconds)',
  created_at TIMESTAMP COMMENT 'When the run was created (UTC)',
  updated_at TIMESTAMP COMMENT 'Latest change of the run, its end once final (UTC)',
  num_questions INT NOT NULL COMMENT 'Benchmark questions the run evaluates',
  num_done INT NOT NULL COMMENT 'Questions evaluated so far',
  num_correct INT NOT NULL COMMENT 'Questions assessed GOOD',
  num_needs_review INT NOT NULL COMMENT 'Questions assessed NEEDS_REVIEW (counted as not correct in accuracy)',
  num_bad INT NOT NULL COMMENT 'Questions assessed BAD: num_done - num_correct - num_needs_review',
  accuracy DOUBLE COMMENT 'num_correct / num_questions for a DONE run, NULL otherwise',
  run_by_user STRING COMMENT 'Who started the run, as the API reports it',
  started_by_pipeline BOOLEAN NOT NULL COMMENT 'True when the genie_eval_runs asset started the run on its schedule',
  results_stored INT NOT NULL COMMENT 'Per-question results stored in genie_eval_results for this run',
  first_seen_at TIMESTAMP NOT NULL COMMENT 'First time the run was stored (UTC)',
  fetched_at TIMESTAMP NOT NULL COMMENT 'Latest time the run was read from the API (UTC)'
) USING DELTA
CLUSTER BY (workspace_id, space_id)
COMMENT 'Genie eval runs (benchmarks) of every space with benchmark questions';
