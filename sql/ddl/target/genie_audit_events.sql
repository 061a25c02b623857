-- Bronze: every aibiGenie audit event of the observed workspaces, typed.
-- Grain: one audit event (event_id). Written by replacing one (workspace_id, event_date) slice at a time.
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_audit_events (
  event_id STRING NOT NULL,
  workspace_id STRING NOT NULL,
  workspace_name STRING,
  workspace_url STRING,
  event_time TIMESTAMP NOT NULL,
  event_date DATE NOT NULL,
  action_name STRING NOT NULL,
  action_kind STRING NOT NULL,        -- ask | read | query_result | feedback | comment | space | conversation | other
  space_id STRING,
  conversation_id STRING,
  message_id STRING,
  feedback_rating STRING,
  user_email STRING,
  is_ingestion_principal BOOLEAN NOT NULL,
  status_code INT,
  error_message STRING,
  user_agent STRING,
  request_id STRING
) COMMENT 'aibiGenie audit events (bronze)';
