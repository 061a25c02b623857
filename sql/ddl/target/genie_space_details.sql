-- Current configuration of every Genie space seen in the audit layer, one row per (workspace_id, space_id).
-- Only successful fetches are merged: a failed fetch never overwrites good data (see genie_space_fetch_errors).
-- Clustered by the key (workspace_id, space_id): every reader filters by workspace and joins on the key.
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_space_details (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id',
  title STRING COMMENT 'Space title',
  description STRING COMMENT 'Space description',
  warehouse_id STRING COMMENT 'SQL warehouse the space runs its queries on',
  parent_path STRING COMMENT 'Workspace folder that holds the space',
  etag STRING COMMENT 'Entity tag of the space as returned by the API',
  create_time TIMESTAMP COMMENT 'When the space was created, as the API reports it',
  update_time TIMESTAMP COMMENT 'When the space was last updated, as the API reports it',
  serialized_space STRING COMMENT 'Full space configuration as JSON text, as returned with include_serialized_space=true',
  config_hash STRING NOT NULL COMMENT 'sha256 of the canonical configuration, the key of genie_space_config_history',
  first_fetched_at TIMESTAMP NOT NULL COMMENT 'First successful fetch of the space (UTC)',
  fetched_at TIMESTAMP NOT NULL COMMENT 'Latest successful fetch of the space (UTC)'
) USING DELTA
CLUSTER BY (workspace_id, space_id)
COMMENT 'Genie space configuration (current)';
