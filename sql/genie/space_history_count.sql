-- Configuration versions kept for one workspace. Params: :workspace_id
SELECT COUNT(*) AS versions FROM main.genie_analytics.genie_space_config_history WHERE workspace_id = :workspace_id
