-- Grain of mart_space_config_versions: (workspace_id, space_id, config_hash) not null and unique; one row per row of genie_space_config_history.
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_space_config_versions) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_space_config_versions WHERE workspace_id IS NULL OR space_id IS NULL OR config_hash IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_space_config_versions GROUP BY workspace_id, space_id, config_hash HAVING COUNT(*) > 1) AS d) AS duplicate_keys,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_space_config_versions) AS total,
  (SELECT COUNT(*) FROM main.genie_analytics.genie_space_config_history) AS expected_total
