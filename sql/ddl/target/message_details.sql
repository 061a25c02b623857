-- Genie messages as the API returns them, one row per (workspace_id, message_id), written by MERGE.
-- A message that is not final yet (Genie still working) is stored with its current status and fetched
-- again on later runs until it is final. first_seen_date follows genie_messages_to_fetch (the partition).
CREATE TABLE IF NOT EXISTS main.genie_analytics.message_details (
  workspace_id STRING NOT NULL,
  message_id STRING NOT NULL,
  space_id STRING NOT NULL,
  conversation_id STRING NOT NULL,
  first_seen_date DATE NOT NULL,
  content STRING,                     -- the user's question
  status STRING NOT NULL,             -- MessageStatus enum
  is_final BOOLEAN NOT NULL,          -- COMPLETED, FAILED, CANCELLED or QUERY_RESULT_EXPIRED
  created_timestamp BIGINT,           -- epoch milliseconds, as the API returns it
  last_updated_timestamp BIGINT,
  created_at TIMESTAMP,
  updated_at TIMESTAMP,
  user_id BIGINT,                     -- the asker according to the API (authoritative)
  asker_user_name STRING,             -- SCIM userName of user_id
  asker_display_name STRING,
  audit_asker_email STRING,           -- the audit log's guess, kept to count disagreements
  asker_differs_from_audit BOOLEAN NOT NULL,
  query_sql STRING,
  query_title STRING,
  query_description STRING,
  statement_id STRING,                -- joins system.query.history.statement_id
  query_row_count BIGINT,
  text_answer STRING,
  suggested_questions STRING,         -- JSON array of strings
  error_type STRING,
  error_message STRING,
  feedback_rating STRING,             -- POSITIVE | NEGATIVE | NONE when the API reports it
  attachments_count INT NOT NULL,
  attachments_json STRING,            -- every attachment as returned, JSON
  discovered_via STRING NOT NULL,     -- audit | api (found only by listing conversations)
  first_fetched_at TIMESTAMP NOT NULL,
  fetched_at TIMESTAMP NOT NULL,      -- last successful fetch
  fetch_attempts INT NOT NULL         -- every attempt, failed ones included
) COMMENT 'Genie message content from the API';
