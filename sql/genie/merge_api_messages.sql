-- Upsert messages seen by listing conversations (staged from Python): a listing refreshes the status and
-- when it was seen; the rest is the message's creation and does not change. Staged rows are the DDL's
-- columns in DDL order; every DDL column is a key, updated or kept on match (test_row_schema.py).
-- Kept on match: space_id, conversation_id, created_date, created_timestamp, user_id
MERGE INTO main.genie_analytics.genie_api_messages AS t
USING __staged_api_messages AS s
ON t.workspace_id = s.workspace_id AND t.message_id = s.message_id
WHEN MATCHED THEN UPDATE SET status = s.status, listed_at = s.listed_at
WHEN NOT MATCHED THEN INSERT *
