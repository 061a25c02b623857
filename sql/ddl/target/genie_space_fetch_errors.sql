-- One row per (workspace_id, space_id) whose GET space failed; resolved when a later fetch succeeds.
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_space_fetch_errors (
  workspace_id STRING NOT NULL,
  space_id STRING NOT NULL,
  error_type STRING NOT NULL,
  http_status INT,
  error_code STRING,
  error_message STRING,
  permanent BOOLEAN NOT NULL,
  attempt_count INT NOT NULL,
  first_attempt_at TIMESTAMP NOT NULL,
  last_attempt_at TIMESTAMP NOT NULL,
  resolved BOOLEAN NOT NULL,
  resolved_at TIMESTAMP
) COMMENT 'Failed Genie space fetches';
