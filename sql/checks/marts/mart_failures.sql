-- Grain of mart_failures: (workspace_id, space_id, activity_date, error_type) not null and unique; failures add up to the failed messages.
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_failures) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_failures WHERE workspace_id IS NULL OR space_id IS NULL OR activity_date IS NULL OR error_type IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_failures GROUP BY workspace_id, space_id, activity_date, error_type HAVING COUNT(*) > 1) AS d) AS duplicate_keys,
  (SELECT COALESCE(SUM(failures), 0) FROM main.genie_analytics.mart_failures) AS total,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_messages WHERE outcome = 'failed' AND space_id IS NOT NULL AND activity_date IS NOT NULL) AS expected_total
