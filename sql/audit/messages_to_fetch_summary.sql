-- What a person wants to see after a silver run, per day of one workspace's date range (the rows each day owns).
-- Params: :workspace_id, :start_date, :end_date
SELECT
  first_seen_date AS day,
  COUNT(*) AS messages,
  COUNT(DISTINCT space_id) AS spaces,
  COUNT(DISTINCT asker_email) AS askers,
  COUNT(DISTINCT conversation_id) AS conversations,
  COUNT_IF(ask_channel = 'API') AS asked_via_api,
  COUNT_IF(ask_channel IS NULL) AS no_ask_matched
FROM main.genie_analytics.genie_messages_to_fetch
WHERE workspace_id = :workspace_id AND first_seen_date BETWEEN :start_date AND :end_date
GROUP BY first_seen_date
