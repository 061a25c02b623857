-- Every distinct configuration a space has had, keyed by a content hash of title, description, warehouse
-- and serialized_space (instructions, tables, joins, sample questions, benchmarks), with when it was seen.
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_space_config_history (
  workspace_id STRING NOT NULL,
  space_id STRING NOT NULL,
  config_hash STRING NOT NULL,
  title STRING,
  description STRING,
  warehouse_id STRING,
  serialized_space STRING,
  update_time TIMESTAMP,
  first_seen_at TIMESTAMP NOT NULL,
  last_seen_at TIMESTAMP NOT NULL
) COMMENT 'Genie space configuration versions (append-only)';
