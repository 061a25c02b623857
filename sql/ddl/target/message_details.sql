-- Genie messages as the API returns them, one row per (workspace_id, message_id), written by MERGE.
-- A message that is not final yet (Genie still working) is stored with its current status and fetched
-- again on later runs until it is final. first_seen_date follows genie_messages_to_fetch (the partition).
-- Clustered by (workspace_id, first_seen_date), the partition filter of the fetch and its checks.
CREATE TABLE IF NOT EXISTS main.genie_analytics.message_details (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  message_id STRING NOT NULL COMMENT 'Genie message id, unique within the workspace',
  space_id STRING NOT NULL COMMENT 'Genie space id of the message',
  conversation_id STRING NOT NULL COMMENT 'Genie conversation id of the message',
  first_seen_date DATE NOT NULL COMMENT 'Partition day, kept equal to genie_messages_to_fetch.first_seen_date',
  content STRING COMMENT 'The question the user asked',
  status STRING NOT NULL COMMENT 'MessageStatus at the latest fetch (e.g. COMPLETED, FAILED, EXECUTING_QUERY)',
  is_final BOOLEAN NOT NULL COMMENT 'True for COMPLETED, FAILED, CANCELLED or QUERY_RESULT_EXPIRED: not fetched again',
  created_timestamp BIGINT COMMENT 'Creation time in epoch milliseconds, as the API returns it',
  last_updated_timestamp BIGINT COMMENT 'Last update time in epoch milliseconds, as the API returns it',
  created_at TIMESTAMP COMMENT 'created_timestamp as a timestamp (UTC)',
  updated_at TIMESTAMP COMMENT 'last_updated_timestamp as a timestamp (UTC)',
  user_id BIGINT COMMENT 'Databricks user id of the asker according to the API (authoritative)',
  asker_user_name STRING COMMENT 'Asker resolved from user_id through SCIM: primary e-mail, else userName',
  asker_display_name STRING COMMENT 'SCIM displayName of user_id',
  audit_asker_email STRING COMMENT 'Asker guessed from the audit log, kept to count disagreements',
  asker_differs_from_audit BOOLEAN NOT NULL COMMENT 'True when the API asker and the audit guess are both known and differ',
  query_sql STRING COMMENT 'SQL Genie wrote (query attachment)',
  query_title STRING COMMENT 'Title of the query attachment',
  query_description STRING COMMENT 'Genie description of the SQL it wrote',
  statement_id STRING COMMENT 'Statement id of the SQL run, joins system.query.history on (workspace_id, statement_id)',
  query_row_count BIGINT COMMENT 'Rows in the query result, per the query result metadata',
  text_answer STRING COMMENT 'Text answers of the message joined by blank lines (follow-up question attachments excluded)',
  suggested_questions STRING COMMENT 'Follow-up questions Genie suggested, as a JSON array of strings',
  error_type STRING COMMENT 'Genie error type of a failed message',
  error_message STRING COMMENT 'Genie error message of a failed message',
  feedback_rating STRING COMMENT 'Feedback rating as the API reports it: POSITIVE, NEGATIVE or NONE',
  attachments_count INT NOT NULL COMMENT 'Number of attachments of the message',
  attachments_json STRING COMMENT 'Every attachment as returned, JSON text',
  discovered_via STRING NOT NULL COMMENT 'audit (listed from the audit log) or api (found only by listing conversations)',
  first_fetched_at TIMESTAMP NOT NULL COMMENT 'First successful fetch (UTC)',
  fetched_at TIMESTAMP NOT NULL COMMENT 'Latest successful fetch (UTC)',
  fetch_attempts INT NOT NULL COMMENT 'Every fetch attempt, failed ones included'
) USING DELTA
CLUSTER BY (workspace_id, first_seen_date)
COMMENT 'Genie message content from the API';
