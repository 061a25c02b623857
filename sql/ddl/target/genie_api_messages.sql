-- Messages found by listing every conversation of every space through the Genie API (include_all=true):
-- the cross-check of what the audit log discovers. One row per (workspace_id, message_id), written by MERGE
-- (sql/genie/merge_api_messages.sql). Clustered by the MERGE key: lookups join on (workspace_id, message_id).
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_api_messages (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id the space belongs to',
  message_id STRING NOT NULL COMMENT 'Genie message id, unique within the workspace',
  space_id STRING NOT NULL COMMENT 'Genie space id of the conversation',
  conversation_id STRING NOT NULL COMMENT 'Genie conversation id the message belongs to',
  created_date DATE COMMENT 'UTC day of created_timestamp',
  created_timestamp BIGINT COMMENT 'Creation time in epoch milliseconds, as the API returns it',
  user_id BIGINT COMMENT 'Databricks user id of the asker according to the API',
  status STRING COMMENT 'MessageStatus at the latest listing (e.g. COMPLETED, FAILED, EXECUTING_QUERY)',
  listed_at TIMESTAMP NOT NULL COMMENT 'When the message was last seen by listing conversations (UTC)'
) USING DELTA
CLUSTER BY (workspace_id, message_id)
COMMENT 'Genie messages seen by listing conversations';
