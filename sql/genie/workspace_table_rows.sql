-- Rows one workspace holds in the tables written per workspace partition (genie_space_details and the tables it
-- keeps beside it, genie_api_messages): the dagster/row_count and figures of those assets in the UI.
-- Params: :workspace_id
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.genie_space_details WHERE workspace_id = :workspace_id) AS space_details,
  (SELECT COUNT(*) FROM main.genie_analytics.genie_space_config_history
    WHERE workspace_id = :workspace_id) AS space_config_versions,
  (SELECT COUNT(*) FROM main.genie_analytics.genie_space_fetch_errors
    WHERE workspace_id = :workspace_id AND NOT resolved) AS open_space_fetch_errors,
  (SELECT COUNT(*) FROM main.genie_analytics.genie_api_messages WHERE workspace_id = :workspace_id) AS api_messages
