-- Grain of mart_sql_performance: (workspace_id, space_id) not null and unique; statements add up to the messages that ran SQL.
-- Each message counts once: the expected total is the distinct (workspace_id, message_id) keys, so a message
-- held twice upstream (a repeated base row) makes the statements exceed it (a plain COUNT(*) would always match).
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_sql_performance) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_sql_performance WHERE workspace_id IS NULL OR space_id IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_sql_performance GROUP BY workspace_id, space_id HAVING COUNT(*) > 1) AS d) AS duplicate_keys,
  (SELECT COALESCE(SUM(statements), 0) FROM main.genie_analytics.mart_sql_performance) AS total,
  (SELECT COUNT(*) FROM (SELECT DISTINCT workspace_id, message_id FROM main.genie_analytics.mart_messages
    WHERE statement_id IS NOT NULL AND space_id IS NOT NULL) AS k) AS expected_total
