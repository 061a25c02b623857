-- Messages of one workspace's date range that have no final record yet and are not blocked by a
-- permanent, unresolved error; optionally restricted to an allow list of spaces (comma-separated ids,
-- empty = all spaces). Ordered by conversation, so that the fetch finds the pending messages of one
-- conversation side by side and answers them with one conversation listing (genie/fetch.py).
-- Params: :workspace_id, :start_date, :end_date, :space_ids
SELECT
  s.workspace_id,
  s.message_id,
  s.space_id,
  s.conversation_id,
  s.first_seen_date,
  s.asker_email AS audit_asker_email
FROM main.genie_analytics.genie_messages_to_fetch AS s
LEFT JOIN main.genie_analytics.message_details AS d
  ON d.workspace_id = s.workspace_id AND d.message_id = s.message_id
LEFT JOIN main.genie_analytics.message_fetch_errors AS e
  ON e.workspace_id = s.workspace_id AND e.message_id = s.message_id
WHERE s.workspace_id = :workspace_id
  AND s.first_seen_date BETWEEN :start_date AND :end_date
  AND (d.message_id IS NULL OR NOT d.is_final)
  AND NOT COALESCE(e.permanent AND NOT e.resolved, FALSE)
  AND (:space_ids = '' OR array_contains(split(:space_ids, ','), s.space_id))
ORDER BY s.space_id, s.conversation_id, s.first_event_time, s.message_id
