-- The semantic diff between consecutive configuration versions of each space (genie_space_config_history, in
-- version order: first seen, then hash), computed in Python (genie_obs_dagster/lifecycle/space_diff.py, the same
-- diff `genie-obs spaces promote --dry-run` prints). One row per version after the first.
-- Clustered by (workspace_id, space_id): the key prefix and the join key of mart_space_config_changes.
CREATE TABLE IF NOT EXISTS main.genie_analytics.genie_space_config_diffs (
  workspace_id STRING NOT NULL COMMENT 'Databricks workspace id',
  space_id STRING NOT NULL COMMENT 'Genie space id',
  to_config_hash STRING NOT NULL COMMENT 'The configuration version after the change (genie_space_config_history.config_hash)',
  from_config_hash STRING NOT NULL COMMENT 'The version before it',
  version_number INT NOT NULL COMMENT 'Number of the version after the change (2, 3, ... as in mart_space_config_versions)',
  space_title STRING COMMENT 'Space title in the version after the change',
  changed_at TIMESTAMP NOT NULL COMMENT 'When the change was made: the update time the API reported for the new version, else when it was first seen (UTC)',
  first_seen_at TIMESTAMP NOT NULL COMMENT 'When the new version was first fetched (UTC)',
  items_added INT NOT NULL COMMENT 'Items added, all sections together',
  items_removed INT NOT NULL COMMENT 'Items removed, all sections together',
  items_changed INT NOT NULL COMMENT 'Items changed (matched by id, else by identifier or question text), all sections together',
  sections_changed STRING COMMENT 'Sections that changed, comma-separated (space, tables, metric_views, text_instructions, sample_questions, example_sqls, sql_functions, join_specs, sql_filters, sql_expressions, sql_measures, benchmarks)',
  diff_summary STRING NOT NULL COMMENT 'Counts per changed section, e.g. tables +1 -0 ~1, sections separated by semicolons',
  diff_json STRING NOT NULL COMMENT 'Names of the added, removed and changed items (with the changed fields) per section, as JSON',
  computed_at TIMESTAMP NOT NULL COMMENT 'When this diff was computed (UTC)'
) USING DELTA
CLUSTER BY (workspace_id, space_id)
COMMENT 'Semantic diffs between consecutive Genie space configuration versions';
