-- Messages found by listing every conversation of every space through the Genie API (include_all=true):
-- the cross-check of what the audit log discovers. One row per (workspace_id, message_id).
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_api_messages (
  workspace_id STRING NOT NULL,
  message_id STRING NOT NULL,
  space_id STRING NOT NULL,
  conversation_id STRING NOT NULL,
  created_date DATE,
  created_timestamp BIGINT,
  user_id BIGINT,
  status STRING,
  listed_at TIMESTAMP NOT NULL
) COMMENT 'Genie messages seen by listing conversations';
