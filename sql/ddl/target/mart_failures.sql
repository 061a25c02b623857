-- Mart "Genie failures": one row per (workspace_id, space_id, activity_date, error_type) of FAILED messages.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_failures (
  workspace_id STRING NOT NULL,
  space_id STRING NOT NULL,
  activity_date DATE NOT NULL,
  error_type STRING NOT NULL,         -- Genie's error type; UNKNOWN when the API gave none
  workspace_name STRING,
  space_title STRING,
  failures BIGINT NOT NULL,
  example_error_message STRING
) COMMENT 'Mart: failed Genie answers by error type';
