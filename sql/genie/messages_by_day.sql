-- Per day of one workspace's date range: the messages listed (within the space allow list), how many have
-- a record, how many are final, how many have an open fetch error. Each day's partition shows its own
-- figures in the UI, so sums over partitions add up. Params: :workspace_id, :start_date, :end_date, :space_ids
SELECT
  s.first_seen_date,
  COUNT(*) AS listed_messages,
  COUNT(d.message_id) AS messages_with_details,
  SUM(CASE WHEN d.is_final THEN 1 ELSE 0 END) AS final_messages,
  SUM(CASE WHEN e.message_id IS NOT NULL AND NOT e.resolved THEN 1 ELSE 0 END) AS open_fetch_errors
FROM main.genie_analytics.genie_messages_to_fetch AS s
LEFT JOIN main.genie_analytics.message_details AS d
  ON d.workspace_id = s.workspace_id AND d.message_id = s.message_id
LEFT JOIN main.genie_analytics.message_fetch_errors AS e
  ON e.workspace_id = s.workspace_id AND e.message_id = s.message_id
WHERE s.workspace_id = :workspace_id
  AND s.first_seen_date BETWEEN :start_date AND :end_date
  AND (:space_ids = '' OR array_contains(split(:space_ids, ','), s.space_id))
GROUP BY s.first_seen_date
ORDER BY s.first_seen_date
