-- Message and space fetch errors per (workspace_id, object_type, error_type): open, permanent, resolved.
WITH errors AS (
  SELECT workspace_id, 'message' AS object_type, error_type, resolved, permanent, attempt_count, last_attempt_at, error_message
  FROM main.genie_analytics.message_fetch_errors
  UNION ALL
  SELECT workspace_id, 'space' AS object_type, error_type, resolved, permanent, attempt_count, last_attempt_at, error_message
  FROM main.genie_analytics.genie_space_fetch_errors
)
SELECT
  workspace_id,
  object_type,
  error_type,
  COUNT(CASE WHEN NOT resolved THEN 1 END) AS open_errors,
  COUNT(CASE WHEN NOT resolved AND permanent THEN 1 END) AS permanent_errors,
  COUNT(CASE WHEN resolved THEN 1 END) AS resolved_errors,
  COALESCE(SUM(attempt_count), 0) AS attempts,
  MAX(last_attempt_at) AS last_attempt_at,
  MAX(error_message) AS example_error_message
FROM errors
GROUP BY workspace_id, object_type, error_type
