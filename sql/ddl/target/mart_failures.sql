-- Mart "Genie failures": one row per (workspace_id, space_id, activity_date, error_type) of FAILED messages.
-- Clustered by (workspace_id, activity_date): dashboards filter by workspace and day.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_failures (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id',
  activity_date DATE NOT NULL COMMENT 'UTC day the failed questions were asked',
  error_type STRING NOT NULL COMMENT 'Genie error type, UNKNOWN when the API gave none',
  workspace_name STRING COMMENT 'Workspace name',
  space_title STRING COMMENT 'Space title, NULL while the space was never fetched',
  failures BIGINT NOT NULL COMMENT 'Failed messages',
  example_error_message STRING COMMENT 'One of their error messages (the greatest)'
) USING DELTA
CLUSTER BY (workspace_id, activity_date)
COMMENT 'Mart: failed Genie answers by error type';
