-- Mart "prompts and SQL": one row per Genie message, (workspace_id, message_id), everything known about it.
-- Rows: every message listed from the audit log (genie_messages_to_fetch) or held in message_details, each
-- once. Joins use full keys only: spaces on (workspace_id, space_id), query history on
-- (workspace_id, statement_id) with one row kept per statement. Rebuilt in full from the base tables.
-- Clustered by (workspace_id, activity_date): dashboards filter by workspace and day.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_messages (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  message_id STRING NOT NULL COMMENT 'Genie message id, unique within the workspace',
  workspace_name STRING COMMENT 'Workspace name from the audit layer',
  space_id STRING COMMENT 'Genie space id (API, else audit log)',
  space_title STRING COMMENT 'genie_space_details.title, NULL while the space was never fetched',
  conversation_id STRING COMMENT 'Genie conversation id (API, else audit log)',
  asked_at TIMESTAMP COMMENT 'The API created time, else the audit ask time, else the first audit event',
  activity_date DATE COMMENT 'UTC day of asked_at: the day every daily mart counts the message on',
  asker STRING COMMENT 'Lower-case e-mail of the asker: the API asker (SCIM) when fetched, else the audit log asker (never the ingestion principal)',
  asker_source STRING COMMENT 'Where asker comes from: api or audit',
  ask_channel STRING COMMENT 'UI or API for the matched audit ask event, NULL when none matched',
  question STRING COMMENT 'The question the user asked (message content)',
  status STRING NOT NULL COMMENT 'The API MessageStatus, or NOT_FETCHED while no details are held',
  outcome STRING NOT NULL COMMENT 'completed, failed, cancelled, in_progress or not_fetched',
  error_type STRING COMMENT 'Genie error type of a failed message',
  error_message STRING COMMENT 'Genie error message of a failed message',
  query_description STRING COMMENT 'Genie description of the SQL it wrote',
  query_sql STRING COMMENT 'SQL Genie wrote',
  statement_id STRING COMMENT 'Statement id of the SQL run, joins system.query.history',
  query_row_count BIGINT COMMENT 'Rows in the query result, per the API',
  text_answer STRING COMMENT 'Text answer of the message',
  feedback_rating STRING COMMENT 'POSITIVE or NEGATIVE: the API rating, else the latest audit log rating, else NULL',
  review_requested BOOLEAN NOT NULL COMMENT 'True when the asker asked for a review (audit comment action)',
  sql_execution_status STRING COMMENT 'execution_status of statement_id in system.query.history (FINISHED, FAILED, CANCELED ...)',
  sql_total_duration_ms BIGINT COMMENT 'total_duration_ms of the statement in system.query.history',
  sql_execution_duration_ms BIGINT COMMENT 'execution_duration_ms of the statement in system.query.history',
  sql_read_rows BIGINT COMMENT 'read_rows of the statement in system.query.history',
  sql_read_bytes BIGINT COMMENT 'read_bytes of the statement in system.query.history',
  sql_produced_rows BIGINT COMMENT 'produced_rows of the statement in system.query.history',
  sql_error_message STRING COMMENT 'error_message of the statement in system.query.history',
  sql_warehouse_id STRING COMMENT 'SQL warehouse that ran the statement (compute.warehouse_id)',
  has_details BOOLEAN NOT NULL COMMENT 'True when message_details holds the message',
  fetch_error_type STRING COMMENT 'error_type of the open (unresolved) fetch error, if any',
  first_seen_date DATE COMMENT 'Partition day of the message in the audit layer',
  fetched_at TIMESTAMP COMMENT 'Latest successful fetch from the API (UTC)'
) USING DELTA
CLUSTER BY (workspace_id, activity_date)
COMMENT 'Mart: one row per Genie message (prompts and SQL)';
