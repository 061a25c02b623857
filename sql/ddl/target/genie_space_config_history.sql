-- Every distinct configuration a space has had, keyed by a content hash of title, description, warehouse
-- and serialized_space (instructions, tables, joins, sample questions, benchmarks), with when it was seen.
-- Clustered by (workspace_id, space_id): the MERGE key prefix and the join key of the configuration marts.
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_space_config_history (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id',
  config_hash STRING NOT NULL COMMENT 'sha256 of the canonical configuration (title, description, warehouse_id, serialized_space)',
  title STRING COMMENT 'Space title in this version',
  description STRING COMMENT 'Space description in this version',
  warehouse_id STRING COMMENT 'SQL warehouse the space runs its queries on, in this version',
  serialized_space STRING COMMENT 'Full space configuration as JSON text (include_serialized_space=true)',
  update_time TIMESTAMP COMMENT 'Update time of the space as the API reported it when this version was first seen',
  first_seen_at TIMESTAMP NOT NULL COMMENT 'When this version was first fetched (UTC)',
  last_seen_at TIMESTAMP NOT NULL COMMENT 'When this version was last fetched (UTC)'
) USING DELTA
CLUSTER BY (workspace_id, space_id)
COMMENT 'Genie space configuration versions (append-only)';
