-- Mart "space configuration items": one row per (workspace_id, space_id, config_hash, item_type, item_index),
-- parsed from serialized_space of every configuration version in genie_space_config_history.
-- item_type: sample_question | table | metric_view | text_instruction | example_sql | join_spec | benchmark.
-- Clustered by (workspace_id, space_id, config_hash): the key it is joined on to the configuration versions.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_space_config_items (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id',
  config_hash STRING NOT NULL COMMENT 'Configuration version (genie_space_config_history.config_hash)',
  item_type STRING NOT NULL COMMENT 'sample_question, table, metric_view, text_instruction, example_sql, join_spec or benchmark',
  item_index INT NOT NULL COMMENT 'Position in its list in serialized_space (0-based)',
  is_current BOOLEAN NOT NULL COMMENT 'True for the version genie_space_details holds now',
  space_title STRING COMMENT 'Space title in this version',
  item_text STRING COMMENT 'Question, table or metric view identifier, instruction, or left = right tables of a join',
  item_detail STRING COMMENT 'SQL of an example or a join, answer of a benchmark, description of a table',
  column_count INT COMMENT 'Tables and metric views: configured columns'
) USING DELTA
CLUSTER BY (workspace_id, space_id, config_hash)
COMMENT 'Mart: Genie space configuration, item by item';
