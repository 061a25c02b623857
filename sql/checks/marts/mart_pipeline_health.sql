-- Grain of mart_pipeline_health: (workspace_id) not null and unique.
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_pipeline_health) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_pipeline_health WHERE workspace_id IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_pipeline_health GROUP BY workspace_id HAVING COUNT(*) > 1) AS d) AS duplicate_keys
