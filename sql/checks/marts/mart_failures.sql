-- Grain of mart_failures: (workspace_id, space_id, activity_date, error_type) not null and unique; failures add up to the failed messages.
-- Each message counts once: the expected total is the distinct (workspace_id, message_id) keys, so a message
-- held twice upstream (a repeated base row) makes the failures exceed it (a plain COUNT(*) would always match).
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_failures) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_failures WHERE workspace_id IS NULL OR space_id IS NULL OR activity_date IS NULL OR error_type IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_failures GROUP BY workspace_id, space_id, activity_date, error_type HAVING COUNT(*) > 1) AS d) AS duplicate_keys,
  (SELECT COALESCE(SUM(failures), 0) FROM main.genie_analytics.mart_failures) AS total,
  (SELECT COUNT(*) FROM (SELECT DISTINCT workspace_id, message_id FROM main.genie_analytics.mart_messages
    WHERE outcome = 'failed' AND space_id IS NOT NULL AND activity_date IS NOT NULL) AS k) AS expected_total
