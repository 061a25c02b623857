-- Mart "fetch errors": one row per (workspace_id, object_type, error_type) over message and space fetch errors.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_fetch_errors (
  workspace_id STRING NOT NULL,
  object_type STRING NOT NULL,        -- message | space
  error_type STRING NOT NULL,
  open_errors BIGINT NOT NULL,
  permanent_errors BIGINT NOT NULL,   -- open and not retried (404 deleted, 403 revoked)
  resolved_errors BIGINT NOT NULL,
  attempts BIGINT NOT NULL,
  last_attempt_at TIMESTAMP,
  example_error_message STRING
) COMMENT 'Mart: API fetch errors by type';
