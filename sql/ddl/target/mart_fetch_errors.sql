-- Mart "fetch errors": one row per (workspace_id, object_type, error_type) over message and space fetch errors.
-- Clustered by workspace_id: the dashboards filter and join it by workspace only.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_fetch_errors (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  object_type STRING NOT NULL COMMENT 'What failed to fetch: message or space',
  error_type STRING NOT NULL COMMENT 'Classified fetch error, e.g. AUTH_ERROR, NOT_FOUND, RATE_LIMITED',
  open_errors BIGINT NOT NULL COMMENT 'Errors not resolved yet',
  permanent_errors BIGINT NOT NULL COMMENT 'Open and not retried (404 deleted, 403 revoked)',
  resolved_errors BIGINT NOT NULL COMMENT 'Errors a later attempt resolved',
  attempts BIGINT NOT NULL COMMENT 'Sum of attempt_count over the errors',
  last_attempt_at TIMESTAMP COMMENT 'Latest attempt among the errors (UTC)',
  example_error_message STRING COMMENT 'One of their error messages (the greatest)'
) USING DELTA
CLUSTER BY (workspace_id)
COMMENT 'Mart: API fetch errors by type';
