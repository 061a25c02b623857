-- Mart "space configuration": one row per configuration version, (workspace_id, space_id, config_hash), with
-- item counts parsed from serialized_space; version 1 is the first seen. The current one has is_current.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_space_config_versions (
  workspace_id STRING NOT NULL,
  space_id STRING NOT NULL,
  config_hash STRING NOT NULL,
  version_number INT NOT NULL,        -- 1, 2, ... in order of first_seen_at
  is_current BOOLEAN NOT NULL,
  workspace_name STRING,
  title STRING,
  description STRING,
  warehouse_id STRING,
  update_time TIMESTAMP,              -- the space's update time as the API reported it
  first_seen_at TIMESTAMP NOT NULL,
  last_seen_at TIMESTAMP NOT NULL,
  sample_questions INT NOT NULL,
  tables INT NOT NULL,
  columns INT NOT NULL,
  text_instructions INT NOT NULL,
  example_sqls INT NOT NULL,
  join_specs INT NOT NULL,
  benchmarks INT NOT NULL
) COMMENT 'Mart: Genie space configuration versions with counts';
