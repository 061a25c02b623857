-- Observed workspaces (the dashboard's workspace filter).
SELECT workspace_id, COALESCE(workspace_name, workspace_id) AS workspace_name
FROM main.genie_analytics.mart_pipeline_health
ORDER BY workspace_name
