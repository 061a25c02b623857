-- Grain of mart_space_config_changes: (workspace_id, space_id, to_config_hash) not null and unique; one row per
-- version after the first of every space in genie_space_config_history (every change has its diff).
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_space_config_changes) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_space_config_changes WHERE workspace_id IS NULL OR space_id IS NULL OR to_config_hash IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_space_config_changes GROUP BY workspace_id, space_id, to_config_hash HAVING COUNT(*) > 1) AS d) AS duplicate_keys,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_space_config_changes) AS total,
  (SELECT COUNT(*) - COUNT(DISTINCT workspace_id, space_id) FROM main.genie_analytics.genie_space_config_history) AS expected_total
