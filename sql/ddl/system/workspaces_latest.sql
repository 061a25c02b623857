-- Local stand-in for system.access.workspaces_latest (genie-api.md section 5.2).
CREATE TABLE IF NOT EXISTS system.access.workspaces_latest (
  account_id STRING,
  workspace_id STRING,
  workspace_name STRING,
  workspace_url STRING,
  create_time TIMESTAMP,
  status STRING
);
