-- Rows and bytes read by Genie's SQL (system.query.history) per workspace, space and day.
SELECT
  workspace_id,
  space_id,
  activity_date,
  CAST(COALESCE(SUM(sql_read_rows), 0) AS BIGINT) AS read_rows,
  CAST(COALESCE(SUM(sql_read_bytes), 0) AS BIGINT) AS read_bytes
FROM main.genie_analytics.mart_messages
WHERE statement_id IS NOT NULL AND space_id IS NOT NULL AND activity_date IS NOT NULL
GROUP BY workspace_id, space_id, activity_date
ORDER BY activity_date, workspace_id, space_id
