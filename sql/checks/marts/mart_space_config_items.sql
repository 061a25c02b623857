-- Grain of mart_space_config_items: (workspace_id, space_id, config_hash, item_type, item_index) not null and unique.
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_space_config_items) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_space_config_items WHERE workspace_id IS NULL OR space_id IS NULL OR config_hash IS NULL OR item_type IS NULL OR item_index IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_space_config_items GROUP BY workspace_id, space_id, config_hash, item_type, item_index HAVING COUNT(*) > 1) AS d) AS duplicate_keys
