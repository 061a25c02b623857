-- One row per (workspace_id, message_id) whose fetch failed, updated on every attempt and marked
-- resolved when a later attempt succeeds. Permanent errors (404 deleted, 403 revoked) are not retried.
-- Clustered by (workspace_id, first_seen_date), the partition filter of its readers.
CREATE TABLE IF NOT EXISTS main.genie_analytics.message_fetch_errors (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  message_id STRING NOT NULL COMMENT 'Genie message id whose fetch failed',
  space_id STRING COMMENT 'Genie space id of the message',
  conversation_id STRING COMMENT 'Genie conversation id of the message',
  first_seen_date DATE COMMENT 'Partition day of the message (genie_messages_to_fetch.first_seen_date)',
  error_type STRING NOT NULL COMMENT 'Classified error of the latest failed attempt: AUTH_ERROR, PERMISSION_DENIED, NOT_FOUND, RATE_LIMITED, SERVER_ERROR, TIMEOUT, MALFORMED_RESPONSE, BAD_REQUEST or NO_TOKEN',
  http_status INT COMMENT 'HTTP status of the latest failed attempt, NULL when there was no response',
  error_code STRING COMMENT 'Databricks error_code of the latest failed attempt',
  error_message STRING COMMENT 'Error message of the latest failed attempt (at most 1000 characters)',
  permanent BOOLEAN NOT NULL COMMENT 'True for errors not retried (404 deleted, 403 access revoked)',
  attempt_count INT NOT NULL COMMENT 'Attempts counted since the first failure, including the one that resolved it',
  first_attempt_at TIMESTAMP NOT NULL COMMENT 'First failed attempt (UTC)',
  last_attempt_at TIMESTAMP NOT NULL COMMENT 'Latest attempt, failed or resolving (UTC)',
  resolved BOOLEAN NOT NULL COMMENT 'True when a later attempt succeeded, the row stays as history',
  resolved_at TIMESTAMP COMMENT 'When a later attempt succeeded (UTC)'
) USING DELTA
CLUSTER BY (workspace_id, first_seen_date)
COMMENT 'Failed Genie message fetches';
