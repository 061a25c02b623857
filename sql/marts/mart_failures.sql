-- Failed Genie answers per (workspace_id, space_id, activity_date, error_type).
SELECT
  workspace_id,
  space_id,
  activity_date,
  COALESCE(error_type, 'UNKNOWN') AS error_type,
  MAX(workspace_name) AS workspace_name,
  MAX(space_title) AS space_title,
  COUNT(*) AS failures,
  MAX(error_message) AS example_error_message
FROM main.genie_analytics.mart_messages
WHERE outcome = 'failed' AND space_id IS NOT NULL AND activity_date IS NOT NULL
GROUP BY workspace_id, space_id, activity_date, COALESCE(error_type, 'UNKNOWN')
