-- Messages the API listing found that the audit log missed and that have no final record yet.
-- Params: :workspace_id, :space_ids
SELECT a.workspace_id, a.message_id
FROM main.genie_analytics.genie_api_messages AS a
LEFT JOIN main.genie_analytics.genie_messages_to_fetch AS s
  ON s.workspace_id = a.workspace_id AND s.message_id = a.message_id
LEFT JOIN main.genie_analytics.message_details AS d
  ON d.workspace_id = a.workspace_id AND d.message_id = a.message_id
WHERE a.workspace_id = :workspace_id
  AND s.message_id IS NULL
  AND (d.message_id IS NULL OR NOT d.is_final)
  AND (:space_ids = '' OR array_contains(split(:space_ids, ','), a.space_id))
