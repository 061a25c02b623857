-- Grain of mart_daily_activity: (workspace_id, space_id, activity_date) not null and unique; questions add up to the messages of mart_messages.
-- Each message counts once: the expected total is the distinct (workspace_id, message_id) keys, so a message
-- held twice upstream (a repeated base row) makes the questions exceed it (a plain COUNT(*) would always match).
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_daily_activity) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_daily_activity WHERE workspace_id IS NULL OR space_id IS NULL OR activity_date IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_daily_activity GROUP BY workspace_id, space_id, activity_date HAVING COUNT(*) > 1) AS d) AS duplicate_keys,
  (SELECT COALESCE(SUM(questions), 0) FROM main.genie_analytics.mart_daily_activity) AS total,
  (SELECT COUNT(*) FROM (SELECT DISTINCT workspace_id, message_id FROM main.genie_analytics.mart_messages
    WHERE space_id IS NOT NULL AND activity_date IS NOT NULL) AS k) AS expected_total
