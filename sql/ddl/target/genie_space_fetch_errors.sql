-- One row per (workspace_id, space_id) whose GET space failed; resolved when a later fetch succeeds.
-- Clustered by the key (workspace_id, space_id), as its MERGEs and readers use it.
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_space_fetch_errors (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id whose fetch failed',
  error_type STRING NOT NULL COMMENT 'Classified error of the latest failed attempt: AUTH_ERROR, PERMISSION_DENIED, NOT_FOUND, RATE_LIMITED, SERVER_ERROR, TIMEOUT, MALFORMED_RESPONSE, BAD_REQUEST or NO_TOKEN',
  http_status INT COMMENT 'HTTP status of the latest failed attempt, NULL when there was no response',
  error_code STRING COMMENT 'Databricks error_code of the latest failed attempt',
  error_message STRING COMMENT 'Error message of the latest failed attempt (at most 1000 characters)',
  permanent BOOLEAN NOT NULL COMMENT 'True for errors not retried (404 deleted, 403 access revoked)',
  attempt_count INT NOT NULL COMMENT 'Attempts counted since the first failure, including the one that resolved it',
  first_attempt_at TIMESTAMP NOT NULL COMMENT 'First failed attempt (UTC)',
  last_attempt_at TIMESTAMP NOT NULL COMMENT 'Latest attempt, failed or resolving (UTC)',
  resolved BOOLEAN NOT NULL COMMENT 'True when a later fetch succeeded, the row stays as history',
  resolved_at TIMESTAMP COMMENT 'When a later fetch succeeded (UTC)'
) USING DELTA
CLUSTER BY (workspace_id, space_id)
COMMENT 'Failed Genie space fetches';
