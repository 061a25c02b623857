-- Local stand-in for system.access.audit (embedded default only; real workspaces already have it).
-- Schema as documented for Databricks system tables (genie-api.md section 4.1).
CREATE TABLE IF NOT EXISTS system.access.audit (
  account_id STRING,
  workspace_id STRING,
  version STRING,
  event_time TIMESTAMP,
  event_date DATE,
  source_ip_address STRING,
  user_agent STRING,
  session_id STRING,
  user_identity STRUCT<email: STRING, subject_name: STRING>,
  service_name STRING,
  action_name STRING,
  request_id STRING,
  request_params MAP<STRING, STRING>,
  response STRUCT<status_code: INT, error_message: STRING, result: STRING>,
  audit_level STRING,
  event_id STRING,
  identity_metadata STRUCT<run_by: STRING, run_as: STRING, acting_resource: STRING>
);
