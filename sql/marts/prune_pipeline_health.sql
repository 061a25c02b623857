-- Drop pipeline-health rows of workspaces no longer configured. Params: :workspace_ids (comma-separated)
DELETE FROM main.genie_analytics.mart_pipeline_health
WHERE NOT array_contains(split(:workspace_ids, ','), workspace_id)
