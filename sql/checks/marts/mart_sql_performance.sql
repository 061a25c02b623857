-- Grain of mart_sql_performance: (workspace_id, space_id) not null and unique; statements add up to the messages that ran SQL.
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_sql_performance) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_sql_performance WHERE workspace_id IS NULL OR space_id IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_sql_performance GROUP BY workspace_id, space_id HAVING COUNT(*) > 1) AS d) AS duplicate_keys,
  (SELECT COALESCE(SUM(statements), 0) FROM main.genie_analytics.mart_sql_performance) AS total,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_messages WHERE statement_id IS NOT NULL AND space_id IS NOT NULL) AS expected_total
