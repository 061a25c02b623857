-- Mart "space configuration": one row per configuration version, (workspace_id, space_id, config_hash), with
-- item counts parsed from serialized_space; version 1 is the first seen. The current one has is_current.
-- Clustered by its key (workspace_id, space_id, config_hash), the join key of the configuration items.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_space_config_versions (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id',
  config_hash STRING NOT NULL COMMENT 'Configuration version (genie_space_config_history.config_hash)',
  version_number INT NOT NULL COMMENT '1, 2, ... in order of first_seen_at',
  is_current BOOLEAN NOT NULL COMMENT 'True for the version genie_space_details holds now',
  workspace_name STRING COMMENT 'Workspace name',
  title STRING COMMENT 'Space title in this version',
  description STRING COMMENT 'Space description in this version',
  warehouse_id STRING COMMENT 'SQL warehouse of the space in this version',
  update_time TIMESTAMP COMMENT 'The space update time as the API reported it',
  first_seen_at TIMESTAMP NOT NULL COMMENT 'When this version was first fetched (UTC)',
  last_seen_at TIMESTAMP NOT NULL COMMENT 'When this version was last fetched (UTC)',
  sample_questions INT NOT NULL COMMENT 'Sample questions configured',
  tables INT NOT NULL COMMENT 'Tables and metric views configured',
  columns INT NOT NULL COMMENT 'Columns configured over those tables and metric views',
  text_instructions INT NOT NULL COMMENT 'Text instructions configured',
  example_sqls INT NOT NULL COMMENT 'Example question and SQL pairs configured',
  join_specs INT NOT NULL COMMENT 'Join specifications configured',
  benchmarks INT NOT NULL COMMENT 'Benchmark questions configured'
) USING DELTA
CLUSTER BY (workspace_id, space_id, config_hash)
COMMENT 'Mart: Genie space configuration versions with counts';
