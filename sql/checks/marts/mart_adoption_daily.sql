-- Grain of mart_adoption_daily: (scope, activity_date) not null and unique; questions of scope 'all' add up to the messages of mart_messages.
-- Each message counts once: the expected total is the distinct (workspace_id, message_id) keys, so a message
-- held twice upstream (a repeated base row) makes the questions exceed it (a plain COUNT(*) would always match).
SELECT
  (SELECT COUNT(*) FROM main.genie_analytics.mart_adoption_daily) AS row_count,
  (SELECT COUNT(*) FROM main.genie_analytics.mart_adoption_daily WHERE scope IS NULL OR activity_date IS NULL) AS null_keys,
  (SELECT COUNT(*) FROM (SELECT 1 FROM main.genie_analytics.mart_adoption_daily GROUP BY scope, activity_date HAVING COUNT(*) > 1) AS d) AS duplicate_keys,
  (SELECT COALESCE(SUM(questions), 0) FROM main.genie_analytics.mart_adoption_daily WHERE scope = 'all') AS total,
  (SELECT COUNT(*) FROM (SELECT DISTINCT workspace_id, message_id FROM main.genie_analytics.mart_messages
    WHERE activity_date IS NOT NULL) AS k) AS expected_total
