-- Failed Genie answers by error type, space and day.
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  space_id,
  COALESCE(space_title, space_id) AS space,
  activity_date, error_type, failures, example_error_message
FROM main.genie_analytics.mart_failures
ORDER BY activity_date, workspace_id, space_id, error_type
