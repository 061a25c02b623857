-- Bronze: every aibiGenie audit event of the observed workspaces, typed.
-- Grain: one audit event (event_id). Written by replacing one (workspace_id, event_date) slice at a time
-- (INSERT INTO ... REPLACE WHERE), and every reader filters on those two columns: the clustering keys.
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_audit_events (
  event_id STRING NOT NULL COMMENT 'Audit event id from system.access.audit (unique)',
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id where the event happened',
  workspace_name STRING COMMENT 'Workspace name from system.access.workspaces_latest',
  workspace_url STRING COMMENT 'Workspace URL from system.access.workspaces_latest',
  event_time TIMESTAMP NOT NULL COMMENT 'When the event happened (UTC)',
  event_date DATE NOT NULL COMMENT 'UTC day of event_time, the partition day of the row',
  action_name STRING NOT NULL COMMENT 'Audit action name, e.g. createConversationMessage or genieGetConversationMessage',
  action_kind STRING NOT NULL COMMENT 'Kind of action: ask, read, query_result, feedback, comment, space, conversation or other',
  space_id STRING COMMENT 'Genie space id from request_params (NULL for events that name no space)',
  conversation_id STRING COMMENT 'Genie conversation id from request_params',
  message_id STRING COMMENT 'Genie message id from request_params (ask events carry none)',
  feedback_rating STRING COMMENT 'Rating of a feedback event from request_params (e.g. POSITIVE, NEGATIVE)',
  user_email STRING COMMENT 'user_identity.email of the caller (a person or a service principal)',
  is_ingestion_principal BOOLEAN NOT NULL COMMENT 'True for the ingestion service principal reading through the API: kept, never counted',
  status_code INT COMMENT 'HTTP status of the request (response.status_code)',
  error_message STRING COMMENT 'response.error_message of a failed request',
  user_agent STRING COMMENT 'User agent of the caller',
  request_id STRING COMMENT 'Request id of the call'
) USING DELTA
CLUSTER BY (workspace_id, event_date)
COMMENT 'aibiGenie audit events (bronze)';
