-- Mart "SQL performance": one row per (workspace_id, space_id) whose messages ran SQL. Statements are the
-- messages' statement_id joined to system.query.history on (workspace_id, statement_id); durations are
-- total_duration_ms; percentiles are exact and continuous (linear between ranks) over the statements found in query history.
-- Clustered by its key (workspace_id, space_id): dashboards filter by workspace.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_sql_performance (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id',
  workspace_name STRING COMMENT 'Workspace name',
  space_title STRING COMMENT 'Space title, NULL while the space was never fetched',
  statements BIGINT NOT NULL COMMENT 'Messages with a statement_id',
  statements_with_history BIGINT NOT NULL COMMENT 'Of those, statements found in system.query.history',
  failed_statements BIGINT NOT NULL COMMENT 'Statements whose execution_status is FAILED',
  duration_p50_ms DOUBLE COMMENT 'Median total_duration_ms (exact, continuous)',
  duration_p90_ms DOUBLE COMMENT '90th percentile of total_duration_ms (exact, continuous)',
  duration_p95_ms DOUBLE COMMENT '95th percentile of total_duration_ms (exact, continuous)',
  duration_avg_ms DOUBLE COMMENT 'Average total_duration_ms',
  duration_max_ms BIGINT COMMENT 'Longest total_duration_ms',
  read_rows BIGINT NOT NULL COMMENT 'Sum of read_rows',
  read_bytes BIGINT NOT NULL COMMENT 'Sum of read_bytes',
  produced_rows BIGINT NOT NULL COMMENT 'Sum of produced_rows'
) USING DELTA
CLUSTER BY (workspace_id, space_id)
COMMENT 'Mart: SQL run by Genie, from system.query.history';
