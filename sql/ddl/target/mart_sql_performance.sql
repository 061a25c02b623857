-- Mart "SQL performance": one row per (workspace_id, space_id) whose messages ran SQL. Statements are the
-- messages' statement_id joined to system.query.history on (workspace_id, statement_id); durations are
-- total_duration_ms; percentiles are exact and continuous (linear between ranks) over the statements found in query history.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_sql_performance (
  workspace_id STRING NOT NULL,
  space_id STRING NOT NULL,
  workspace_name STRING,
  space_title STRING,
  statements BIGINT NOT NULL,         -- messages with a statement_id
  statements_with_history BIGINT NOT NULL,
  failed_statements BIGINT NOT NULL,  -- execution_status FAILED
  duration_p50_ms DOUBLE,
  duration_p90_ms DOUBLE,
  duration_p95_ms DOUBLE,
  duration_avg_ms DOUBLE,
  duration_max_ms BIGINT,
  read_rows BIGINT NOT NULL,
  read_bytes BIGINT NOT NULL,
  produced_rows BIGINT NOT NULL
) COMMENT 'Mart: SQL run by Genie, from system.query.history';
