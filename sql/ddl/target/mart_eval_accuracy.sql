-- Mart "eval accuracy": one row per (workspace_id, space_id, eval_run_id) for every DONE eval run: accuracy over
-- time per space, with the previous run's accuracy. Clustered by (workspace_id, space_id): charts filter by them.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_eval_accuracy (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id',
  eval_run_id STRING NOT NULL COMMENT 'Eval run id',
  space_title STRING COMMENT 'Space title, NULL while the space was never fetched',
  run_number INT NOT NULL COMMENT 'Order of the DONE run within its space, 1 = first',
  run_date DATE COMMENT 'UTC day the run was created',
  created_at TIMESTAMP COMMENT 'When the run was created (UTC)',
  finished_at TIMESTAMP COMMENT 'When the run finished (UTC)',
  num_questions INT NOT NULL COMMENT 'Benchmark questions evaluated',
  num_correct INT NOT NULL COMMENT 'Questions assessed GOOD',
  num_needs_review INT NOT NULL COMMENT 'Questions assessed NEEDS_REVIEW (not correct)',
  num_bad INT NOT NULL COMMENT 'Questions assessed BAD',
  accuracy DOUBLE COMMENT 'num_correct / num_questions',
  previous_accuracy DOUBLE COMMENT 'Accuracy of the previous DONE run of the space, NULL for the first',
  accuracy_change DOUBLE COMMENT 'accuracy - previous_accuracy',
  started_by_pipeline BOOLEAN NOT NULL COMMENT 'True when the genie_eval_runs asset started the run',
  is_latest BOOLEAN NOT NULL COMMENT 'True for the latest DONE run of the space',
  workspace_name STRING COMMENT 'Workspace name (system.access.workspaces_latest, through the audit layer)'
) USING DELTA
CLUSTER BY (workspace_id, space_id)
COMMENT 'Mart: benchmark accuracy over time per Genie space';
