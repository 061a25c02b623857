-- Mart "space configuration items": one row per (workspace_id, space_id, config_hash, item_type, item_index),
-- parsed from serialized_space of every configuration version in genie_space_config_history.
-- item_type: sample_question | table | text_instruction | example_sql | join_spec | benchmark.
CREATE TABLE IF NOT EXISTS main.genie_analytics.mart_space_config_items (
  workspace_id STRING NOT NULL,
  space_id STRING NOT NULL,
  config_hash STRING NOT NULL,
  item_type STRING NOT NULL,
  item_index INT NOT NULL,            -- position in its list in serialized_space (0-based)
  is_current BOOLEAN NOT NULL,        -- the version genie_space_details holds now
  space_title STRING,
  item_text STRING,                   -- question, table identifier, instruction, or "left = right" tables of a join
  item_detail STRING,                 -- SQL of an example/benchmark, condition of a join
  column_count INT                    -- tables: configured columns
) COMMENT 'Mart: Genie space configuration, item by item';
