-- Upsert messages seen by listing conversations (staged from Python).
MERGE INTO main.genie_analytics.genie_api_messages AS t
USING __staged_api_messages AS s
ON t.workspace_id = s.workspace_id AND t.message_id = s.message_id
WHEN MATCHED THEN UPDATE SET status = s.status, listed_at = s.listed_at
WHEN NOT MATCHED THEN INSERT *
