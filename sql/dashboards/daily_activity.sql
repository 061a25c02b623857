-- Daily activity per workspace, space and day (charts aggregate it for the selected workspaces).
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  space_id,
  COALESCE(space_title, space_id) AS space,
  activity_date,
  questions, conversations, new_conversations, askers,
  completed, failed, cancelled, in_progress, not_fetched,
  positive_feedback, negative_feedback, review_requests,
  sql_statements, failed_statements, sql_total_duration_ms
FROM main.genie_analytics.mart_daily_activity
ORDER BY activity_date, workspace_id, space_id
