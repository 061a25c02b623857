-- SQL statements Genie ran per space, from system.query.history.
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  space_id,
  COALESCE(space_title, space_id) AS space,
  statements, statements_with_history, failed_statements,
  duration_p50_ms, duration_p90_ms, duration_p95_ms, duration_avg_ms, duration_max_ms,
  read_rows, read_bytes, produced_rows
FROM main.genie_analytics.mart_sql_performance
ORDER BY statements DESC, workspace_id, space_id
