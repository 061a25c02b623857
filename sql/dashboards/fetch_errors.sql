-- API fetch errors by workspace, object and type.
SELECT
  e.workspace_id,
  COALESCE(h.workspace_name, e.workspace_id) AS workspace_name,
  e.object_type, e.error_type, e.open_errors, e.permanent_errors, e.resolved_errors, e.attempts, e.last_attempt_at,
  e.example_error_message
FROM main.genie_analytics.mart_fetch_errors AS e
LEFT JOIN main.genie_analytics.mart_pipeline_health AS h ON h.workspace_id = e.workspace_id
ORDER BY e.open_errors DESC, e.workspace_id, e.object_type, e.error_type
