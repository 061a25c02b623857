-- Current configuration of every Genie space seen in the audit layer, one row per (workspace_id, space_id).
-- Only successful fetches are merged: a failed fetch never overwrites good data (see genie_space_fetch_errors).
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_space_details (
  workspace_id STRING NOT NULL,
  space_id STRING NOT NULL,
  title STRING,
  description STRING,
  warehouse_id STRING,
  parent_path STRING,
  etag STRING,
  create_time TIMESTAMP,
  update_time TIMESTAMP,
  serialized_space STRING,            -- JSON text as returned with include_serialized_space=true
  config_hash STRING NOT NULL,        -- sha256 of the canonical configuration (see genie_space_config_history)
  first_fetched_at TIMESTAMP NOT NULL,
  fetched_at TIMESTAMP NOT NULL
) COMMENT 'Genie space configuration (current)';
