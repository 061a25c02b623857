-- Mart "prompts and SQL": one row per Genie message, (workspace_id, message_id), everything known about it.
-- Rows: every message listed from the audit log (genie_messages_to_fetch) or held in message_details, each
-- once. Joins use full keys only: spaces on (workspace_id, space_id), query history on
-- (workspace_id, statement_id) with one row kept per statement. Rebuilt in full from the base tables.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_messages (
  workspace_id STRING NOT NULL,
  message_id STRING NOT NULL,
  workspace_name STRING,
  space_id STRING,
  space_title STRING,                 -- genie_space_details.title; NULL while the space was never fetched
  conversation_id STRING,
  asked_at TIMESTAMP,                 -- the API's created time, else the audit ask time, else the first audit event
  activity_date DATE,                 -- UTC day of asked_at: the day every daily mart counts the message on
  asker STRING,                       -- lower-case e-mail: the API's asker (SCIM userName) when fetched, else the
                                      -- audit log's asker (never the ingestion principal)
  asker_source STRING,                -- api | audit
  ask_channel STRING,                 -- UI | API | NULL (no ask event matched)
  question STRING,
  status STRING NOT NULL,             -- the API's status, or NOT_FETCHED while no details are held
  outcome STRING NOT NULL,            -- completed | failed | cancelled | in_progress | not_fetched
  error_type STRING,                  -- Genie's error type of a failed message
  error_message STRING,
  query_description STRING,           -- Genie's description of the SQL it wrote
  query_sql STRING,
  statement_id STRING,
  query_row_count BIGINT,
  text_answer STRING,
  feedback_rating STRING,             -- POSITIVE | NEGATIVE | NULL: the API's rating, else the audit log's latest
  review_requested BOOLEAN NOT NULL,  -- the asker asked for a review (audit comment action)
  sql_execution_status STRING,        -- system.query.history of statement_id: FINISHED | FAILED | CANCELED ...
  sql_total_duration_ms BIGINT,
  sql_execution_duration_ms BIGINT,
  sql_read_rows BIGINT,
  sql_read_bytes BIGINT,
  sql_produced_rows BIGINT,
  sql_error_message STRING,
  sql_warehouse_id STRING,
  has_details BOOLEAN NOT NULL,       -- message_details holds the message
  fetch_error_type STRING,            -- open (unresolved) fetch error, if any
  first_seen_date DATE,               -- partition day of the message in the audit layer
  fetched_at TIMESTAMP                -- last successful fetch from the API
) COMMENT 'Mart: one row per Genie message (prompts and SQL)';
