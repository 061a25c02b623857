-- Late audit rows can move a message to an earlier day in genie_messages_to_fetch; keep message_details
-- (and its errors) owned by the same day. Params: :workspace_id, :start_date, :end_date
MERGE INTO main.genie_analytics.message_details AS t
USING (
  SELECT workspace_id, message_id, first_seen_date
  FROM main.genie_analytics.genie_messages_to_fetch
  WHERE workspace_id = :workspace_id AND first_seen_date BETWEEN :start_date AND :end_date
) AS s
ON t.workspace_id = s.workspace_id AND t.message_id = s.message_id
WHEN MATCHED AND t.first_seen_date <> s.first_seen_date THEN UPDATE SET first_seen_date = s.first_seen_date
