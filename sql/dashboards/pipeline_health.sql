-- Coverage, pending work, open errors and freshness per workspace.
SELECT
  workspace_id,
  COALESCE(workspace_name, workspace_id) AS workspace_name,
  audit_events, latest_audit_event_time, messages_listed, messages_excluded, messages_with_details,
  messages_missing, messages_api_only, messages_pending, coverage, open_fetch_errors, permanent_fetch_errors,
  latest_fetch_time, spaces_listed, spaces_with_details, open_space_fetch_errors, latest_space_fetch_time,
  refreshed_at
FROM main.genie_analytics.mart_pipeline_health
ORDER BY workspace_name
